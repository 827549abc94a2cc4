import { MigrationInterface, QueryRunner } from "typeorm";

export class InitialSchema1795431800153 implements MigrationInterface {
    name = 'InitialSchema1795431800153'

    public async up(queryRunner: QueryRunner): Promise<void> {
        await queryRunner.query(`
            CREATE TABLE "checkpoints" (
                "checkpoint_id" text NOT NULL,
                "run_id" text NOT NULL,
                "label" text,
                "log_index" bigint NOT NULL,
                "state_hash" text NOT NULL,
                "state" jsonb NOT NULL,
                "created_at" TIMESTAMP WITH TIME ZONE NOT NULL,
                CONSTRAINT "PK_15bf6f44e7859a1a41b27f8da70" PRIMARY KEY ("checkpoint_id")
            )
        `);
        await queryRunner.query(`
            CREATE INDEX "checkpoints_run_idx" ON "checkpoints" ("run_id", "log_index")
        `);
        await queryRunner.query(`
            CREATE TABLE "history_entries" (
                "log_index" bigint NOT NULL,
                "term" bigint NOT NULL,
                "run_id" text,
                "command_type" text NOT NULL,
                "command" jsonb NOT NULL,
                "prev_hash" text,
                "hash" text,
                "proposed_at" TIMESTAMP WITH TIME ZONE NOT NULL,
                "archived_at" TIMESTAMP WITH TIME ZONE NOT NULL DEFAULT now(),
                CONSTRAINT "PK_bc6d4e3fc66560e7e635526ce02" PRIMARY KEY ("log_index")
            )
        `);
        await queryRunner.query(`
            CREATE INDEX "history_entries_run_idx" ON "history_entries" ("run_id", "log_index")
        `);
        await queryRunner.query(`
            CREATE TABLE "run_steps" (
                "run_id" text NOT NULL,
                "step_key" text NOT NULL,
                "step_id" text NOT NULL,
                "status" text NOT NULL,
                "attempt" integer NOT NULL DEFAULT '0',
                "generation" integer NOT NULL DEFAULT '0',
                "output" jsonb,
                "error" jsonb,
                "usage" jsonb,
                "updated_at" TIMESTAMP WITH TIME ZONE NOT NULL,
                CONSTRAINT "PK_54777dc867e98260d6841db9327" PRIMARY KEY ("run_id", "step_key")
            )
        `);
        await queryRunner.query(`
            CREATE TABLE "runs" (
                "run_id" text NOT NULL,
                "workflow_name" text NOT NULL,
                "workflow_version" integer NOT NULL,
                "status" text NOT NULL,
                "status_reason" text,
                "generation" integer NOT NULL DEFAULT '0',
                "input" jsonb,
                "output" jsonb,
                "error" jsonb,
                "idempotency_key" text,
                "forked_from_run_id" text,
                "forked_from_checkpoint_id" text,
                "state_hash" text,
                "last_log_index" bigint NOT NULL,
                "created_at" TIMESTAMP WITH TIME ZONE NOT NULL,
                "updated_at" TIMESTAMP WITH TIME ZONE NOT NULL,
                CONSTRAINT "UQ_4532d804ae44cf47f4bbbc5e7f9" UNIQUE ("idempotency_key"),
                CONSTRAINT "PK_7b1adf394802068cbdddcdc5698" PRIMARY KEY ("run_id")
            )
        `);
        await queryRunner.query(`
            CREATE INDEX "runs_workflow_created_idx" ON "runs" ("workflow_name", "created_at")
        `);
        await queryRunner.query(`
            CREATE INDEX "runs_status_created_idx" ON "runs" ("status", "created_at")
        `);
        await queryRunner.query(`
            CREATE TABLE "workflow_definitions" (
                "name" text NOT NULL,
                "version" integer NOT NULL,
                "definition" jsonb NOT NULL,
                "log_index" bigint NOT NULL,
                "registered_at" TIMESTAMP WITH TIME ZONE NOT NULL,
                CONSTRAINT "PK_c304033580817a472278c2f927b" PRIMARY KEY ("name", "version")
            )
        `);
    }

    public async down(queryRunner: QueryRunner): Promise<void> {
        await queryRunner.query(`
            DROP TABLE "workflow_definitions"
        `);
        await queryRunner.query(`
            DROP INDEX "public"."runs_status_created_idx"
        `);
        await queryRunner.query(`
            DROP INDEX "public"."runs_workflow_created_idx"
        `);
        await queryRunner.query(`
            DROP TABLE "runs"
        `);
        await queryRunner.query(`
            DROP TABLE "run_steps"
        `);
        await queryRunner.query(`
            DROP INDEX "public"."history_entries_run_idx"
        `);
        await queryRunner.query(`
            DROP TABLE "history_entries"
        `);
        await queryRunner.query(`
            DROP INDEX "public"."checkpoints_run_idx"
        `);
        await queryRunner.query(`
            DROP TABLE "checkpoints"
        `);
    }

}
