import { Column, Entity, PrimaryColumn } from 'typeorm';

/** Query projection of one step of a run (a map item or loop iteration has its own key). */
@Entity({ name: 'run_steps' })
export class RunStepEntity {
  @PrimaryColumn({ name: 'run_id', type: 'text' })
  runId!: string;

  /** Step id, with the map item or loop iteration appended when there is one. */
  @PrimaryColumn({ name: 'step_key', type: 'text' })
  stepKey!: string;

  @Column({ name: 'step_id', type: 'text' })
  stepId!: string;

  @Column({ type: 'text' })
  status!: string;

  @Column({ type: 'int', default: 0 })
  attempt!: number;

  @Column({ type: 'int', default: 0 })
  generation!: number;

  @Column({ type: 'jsonb', nullable: true })
  output!: unknown;

  @Column({ type: 'jsonb', nullable: true })
  error!: unknown;

  @Column({ type: 'jsonb', nullable: true })
  usage!: unknown;

  @Column({ name: 'updated_at', type: 'timestamptz' })
  updatedAt!: Date;
}
