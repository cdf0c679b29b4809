// The transfer flow's workflows: transferMoney runs one transfer (run.ts) as its own workflow.
import { setCurrentDetails, setHandler, upsertSearchAttributes } from '@temporalio/workflow';
import { FlowStatusKey } from '../../platform/workflow/search-attributes';
import { transferProgressQuery, type TransferInput, type TransferProgress } from './contract';
import { TransferRun } from './run';

export async function transferMoney(input: TransferInput): Promise<TransferProgress> {
  const run = new TransferRun(input, {
    status: (status, details) => {
      upsertSearchAttributes([{ key: FlowStatusKey, value: status }]);
      setCurrentDetails(details);
    },
    details: setCurrentDetails,
  });
  setHandler(transferProgressQuery, () => run.view());
  return run.run();
}
