// The transfer flow's workflows: transferMoney runs one transfer (run.ts) as its own workflow, in the mode its input
// names (saga, tcc or xa), and answers the progress query and the XA recovery job's decision query.
import { setCurrentDetails, setHandler, upsertSearchAttributes } from '@temporalio/workflow';
import { FlowStatusKey } from '../../platform/workflow/search-attributes';
import { xaDecisionQuery } from '../../platform/workflow/xa';
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
  setHandler(xaDecisionQuery, (bqual) => run.xaDecision(bqual) ?? 'unknown');
  return run.run();
}
