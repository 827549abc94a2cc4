import { CheckpointEntity } from './checkpoint.entity';
import { HistoryEntryEntity } from './history-entry.entity';
import { RunStepEntity } from './run-step.entity';
import { RunEntity } from './run.entity';
import { WorkflowDefinitionEntity } from './workflow-definition.entity';

export { CheckpointEntity, HistoryEntryEntity, RunEntity, RunStepEntity, WorkflowDefinitionEntity };

export const historyEntities = [WorkflowDefinitionEntity, RunEntity, RunStepEntity, CheckpointEntity, HistoryEntryEntity];
