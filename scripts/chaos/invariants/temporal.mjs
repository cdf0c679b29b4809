// Temporal holds no running flow once every accepted flow is terminal. A flow's last database write precedes its
// completion by one workflow task: the count is retried for a few seconds before it counts as a violation.
import { execFile } from 'node:child_process';
import { setTimeout as sleep } from 'node:timers/promises';

function countRunning({ cli, address }) {
  return new Promise((resolve) => {
    execFile(cli, ['workflow', 'count', '--address', address, '--namespace', 'default', '--query', 'ExecutionStatus="Running"', '-o', 'json'], { timeout: 15_000 }, (err, stdout) => {
      if (err) return resolve(`error: ${err.message.slice(0, 200)}`);
      try {
        resolve(Number(JSON.parse(stdout).count ?? 0));
      } catch {
        resolve(`unparsable: ${stdout.slice(0, 200)}`);
      }
    });
  });
}

export default {
  name: 'temporal',
  async check({ temporal }, v, summary) {
    for (let i = 0; i < 30; i++) {
      summary.temporalRunning = await countRunning(temporal);
      if (summary.temporalRunning === 0) break;
      await sleep(1_000);
    }
    if (summary.temporalRunning !== 0) v('temporal-running-flows', { running: summary.temporalRunning });
  },
};
