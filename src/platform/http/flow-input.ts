// What every flow's input carries from the API's configuration, fixed at its start so a replay behaves the same: its
// step timeouts and stuck alarm (from one snapshot of the live configuration) and the topology its steps route by.
import type { Config } from '../../config';
import type { StepTimeouts, Topology } from '../workflow/types';
import type { AppDeps } from './deps';

/** The step timeouts and stuck alarm a flow started now carries: from one snapshot of the live configuration. */
export function stepTimeouts(deps: Pick<AppDeps, 'config' | 'live'>): StepTimeouts {
  const config: Config = deps.live?.current().config ?? deps.config;
  return {
    stepStartToCloseMs: config.flows.stepStartToCloseMs,
    stepScheduleToCloseMs: config.flows.stepScheduleToCloseMs,
    compensationStuckAfterMs: config.flows.compensationStuckAfterMs,
  };
}

export function topologyOf({ config, stores }: Pick<AppDeps, 'config' | 'stores'>): Topology {
  return { queuePrefix: config.temporal.taskQueuePrefix, ledgerShards: stores.of('ledger').length };
}
