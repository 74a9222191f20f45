import { execFile } from 'node:child_process';
import path from 'node:path';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';
import { isClosedChannelRetry } from '../../../client/closed-channel';
import { PROJECT_ROOT } from '../../../lib/config';

const run = promisify(execFile);

function errorWith(message: string, frame: string): Error {
  const err = new Error(message);
  err.stack = `Error: ${message}\n    at InternalChannel.createCall (node_modules/@grpc/grpc-js/build/src/internal-channel.js:660:19)\n    at ${frame}`;
  return err;
}

describe('closed-channel retries', () => {
  it('recognises only the retry timer of a closed @temporalio/client connection', () => {
    expect(isClosedChannelRetry(errorWith('Channel has been shut down', 'Timeout.retry (node_modules/@temporalio/client/lib/grpc-retry.js:142:34)'))).toBe(true);
    expect(isClosedChannelRetry(errorWith('Channel has been shut down', 'someOtherCaller (app.js:1:1)'))).toBe(false);
    expect(isClosedChannelRetry(errorWith('boom', 'Timeout.retry (node_modules/@temporalio/client/lib/grpc-retry.js:142:34)'))).toBe(false);
    expect(isClosedChannelRetry(undefined)).toBe(false);
  });

  it('a process with the guard survives that error in a timer and still dies of any other', async () => {
    const script = (message: string) => `
      import { ignoreClosedChannelRetries } from ${JSON.stringify(path.join(PROJECT_ROOT, 'client', 'closed-channel.ts'))};
      ignoreClosedChannelRetries();
      setTimeout(() => { const e = new Error(${JSON.stringify(message)}); e.stack = 'Error: x\\n    at Timeout.retry (node_modules/@temporalio/client/lib/grpc-retry.js:142:34)'; throw e; }, 5);
      setTimeout(() => console.log('still running'), 50);`;
    const node = (code: string) => run(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', code], { cwd: PROJECT_ROOT }).then(
      (r) => ({ code: 0, stdout: r.stdout }),
      (e: { code: number; stdout: string }) => ({ code: e.code, stdout: e.stdout }),
    );
    expect(await node(script('Channel has been shut down'))).toEqual({ code: 0, stdout: 'still running\n' });
    expect(await node(script('a real bug'))).toMatchObject({ code: 1, stdout: '' });
  });
});
