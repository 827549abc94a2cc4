import { Column, Entity, Index, PrimaryColumn } from 'typeorm';

/**
 * One committed command, archived. Rows are only ever inserted (idempotently, keyed by log
 * index): nothing is erased from history, rolled-back branches included (DESIGN invariant 4).
 */
@Entity({ name: 'history_entries' })
@Index('history_entries_run_idx', ['runId', 'logIndex'])
export class HistoryEntryEntity {
  @PrimaryColumn({ name: 'log_index', type: 'bigint' })
  logIndex!: string;

  @Column({ type: 'bigint' })
  term!: string;

  @Column({ name: 'run_id', type: 'text', nullable: true })
  runId!: string | null;

  @Column({ name: 'command_type', type: 'text' })
  commandType!: string;

  @Column({ type: 'jsonb' })
  command!: unknown;

  @Column({ name: 'prev_hash', type: 'text', nullable: true })
  prevHash!: string | null;

  @Column({ type: 'text', nullable: true })
  hash!: string | null;

  @Column({ name: 'proposed_at', type: 'timestamptz' })
  proposedAt!: Date;

  @Column({ name: 'archived_at', type: 'timestamptz', default: () => 'now()' })
  archivedAt!: Date;
}
