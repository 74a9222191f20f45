/** Process helpers for tests that kill or watch child processes. */
import fs from 'node:fs';

/** Whether a process runs: it exists and is not a zombie waiting for a parent (e.g. init) to reap it. */
export function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
  } catch {
    return false;
  }
  try {
    return !/^\d+ \(.*\) Z/.test(fs.readFileSync(`/proc/${pid}/stat`, 'utf8'));
  } catch {
    return false;
  }
}
