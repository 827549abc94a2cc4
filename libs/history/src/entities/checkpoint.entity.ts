import { Column, Entity, Index, PrimaryColumn } from 'typeorm';

/** An immutable copy of a run's state at a log index, with its state hash. */
@Entity({ name: 'checkpoints' })
@Index('checkpoints_run_idx', ['runId', 'logIndex'])
export class CheckpointEntity {
  @PrimaryColumn({ name: 'checkpoint_id', type: 'text' })
  checkpointId!: string;

  @Column({ name: 'run_id', type: 'text' })
  runId!: string;

  @Column({ type: 'text', nullable: true })
  label!: string | null;

  @Column({ name: 'log_index', type: 'bigint' })
  logIndex!: string;

  @Column({ name: 'state_hash', type: 'text' })
  stateHash!: string;

  @Column({ type: 'jsonb' })
  state!: unknown;

  @Column({ name: 'created_at', type: 'timestamptz' })
  createdAt!: Date;
}
