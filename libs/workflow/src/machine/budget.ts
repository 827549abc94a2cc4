import type { Usage } from '../commands/command.schema';
import type { RunContext } from './apply-context';
import type { LeafState, RunState } from './run-state';

/** True when the run's total spend is above its effective budget. */
export function budgetExceeded(run: RunState): boolean {
  const budget = run.budget;
  if (budget === undefined) return false;
  const tokens = run.usage.inputTokens + run.usage.outputTokens;
  return (budget.maxTokens !== undefined && tokens > budget.maxTokens) || (budget.maxCost !== undefined && run.usage.cost > budget.maxCost);
}

/** True while the run is paused for budget: no step starts and no attempt is dispatched. */
export function isBudgetPaused(run: RunState): boolean {
  return run.waitReason === 'budget_exceeded';
}

/**
 * Adds reported usage to the leaf and the run total (spend is never refunded, rollbacks
 * included), and pauses the run (`waiting`, `budget_exceeded`) once the total exceeds the budget.
 */
export function recordUsage(ctx: RunContext, leaf: LeafState, usage: Usage | undefined): void {
  if (usage === undefined) return;
  const own = leaf.usage ?? { inputTokens: 0, outputTokens: 0, cost: 0 };
  leaf.usage = { inputTokens: own.inputTokens + usage.inputTokens, outputTokens: own.outputTokens + usage.outputTokens, cost: own.cost + usage.cost };
  const total = ctx.run.usage;
  ctx.run.usage = { inputTokens: total.inputTokens + usage.inputTokens, outputTokens: total.outputTokens + usage.outputTokens, cost: total.cost + usage.cost };
  if (budgetExceeded(ctx.run)) ctx.run.waitReason = 'budget_exceeded';
}
