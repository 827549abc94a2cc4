import { Column, Entity, PrimaryColumn } from 'typeorm';

/** One registered version of a workflow definition, as committed to the log. */
@Entity({ name: 'workflow_definitions' })
export class WorkflowDefinitionEntity {
  @PrimaryColumn({ type: 'text' })
  name!: string;

  @PrimaryColumn({ type: 'int' })
  version!: number;

  @Column({ type: 'jsonb' })
  definition!: unknown;

  @Column({ name: 'log_index', type: 'bigint' })
  logIndex!: string;

  @Column({ name: 'registered_at', type: 'timestamptz' })
  registeredAt!: Date;
}
