import { Column, Entity, Index, PrimaryColumn } from 'typeorm';

/** Query projection of a run; the replicated state machine remains the source of truth. */
@Entity({ name: 'runs' })
@Index('runs_status_created_idx', ['status', 'createdAt'])
@Index('runs_workflow_created_idx', ['workflowName', 'createdAt'])
export class RunEntity {
  @PrimaryColumn({ name: 'run_id', type: 'text' })
  runId!: string;

  @Column({ name: 'workflow_name', type: 'text' })
  workflowName!: string;

  @Column({ name: 'workflow_version', type: 'int' })
  workflowVersion!: number;

  @Column({ type: 'text' })
  status!: string;

  @Column({ name: 'status_reason', type: 'text', nullable: true })
  statusReason!: string | null;

  @Column({ type: 'int', default: 0 })
  generation!: number;

  @Column({ type: 'jsonb', nullable: true })
  input!: unknown;

  @Column({ type: 'jsonb', nullable: true })
  output!: unknown;

  @Column({ type: 'jsonb', nullable: true })
  error!: unknown;

  @Column({ name: 'idempotency_key', type: 'text', nullable: true, unique: true })
  idempotencyKey!: string | null;

  @Column({ name: 'forked_from_run_id', type: 'text', nullable: true })
  forkedFromRunId!: string | null;

  @Column({ name: 'forked_from_checkpoint_id', type: 'text', nullable: true })
  forkedFromCheckpointId!: string | null;

  @Column({ name: 'state_hash', type: 'text', nullable: true })
  stateHash!: string | null;

  @Column({ name: 'last_log_index', type: 'bigint' })
  lastLogIndex!: string;

  @Column({ name: 'created_at', type: 'timestamptz' })
  createdAt!: Date;

  @Column({ name: 'updated_at', type: 'timestamptz' })
  updatedAt!: Date;
}
