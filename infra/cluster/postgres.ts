/**
 * The cluster's PostgreSQL: a server of its own in <cluster dir>/postgres (initdb + pg_ctl from the installed
 * PostgreSQL, e.g. Debian's postgresql-15), listening on 127.0.0.1:TWINFLOW_POSTGRES_PORT, with a `temporal` role
 * (password `temporal`) that Temporal's schema tool and server use. The system's PostgreSQL service is not touched.
 * PostgreSQL refuses to run as root, so under root it runs as the `postgres` user.
 */
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import type { ClusterOptions } from './options';
import { StackError, logFileOf, pidFileOf, runOnce, waitFor } from '../processes';

export const POSTGRES_USER = 'temporal';
export const POSTGRES_PASSWORD = 'temporal';

const dataDir = (o: ClusterOptions) => path.join(o.dir, 'postgres', 'data');
const socketDir = (o: ClusterOptions) => path.join(o.dir, 'postgres', 'socket');

/** The folder with initdb, pg_ctl and pg_isready. */
export function postgresBinDir(o: ClusterOptions): string {
  const candidates: string[] = [];
  if (o.postgresBin) candidates.push(o.postgresBin);
  else {
    const root = '/usr/lib/postgresql';
    const versions = fs.existsSync(root) ? fs.readdirSync(root).filter((v) => /^\d+$/.test(v)).sort((a, b) => Number(b) - Number(a)) : [];
    // 15 first: the version this profile was rehearsed with.
    for (const v of ['15', ...versions.filter((v) => v !== '15')]) candidates.push(path.join(root, v, 'bin'));
    const which = spawnSync('sh', ['-c', 'command -v pg_ctl'], { encoding: 'utf8' });
    if (which.status === 0 && which.stdout.trim()) candidates.push(path.dirname(which.stdout.trim()));
  }
  const found = candidates.find((d) => fs.existsSync(path.join(d, 'initdb')) && fs.existsSync(path.join(d, 'pg_ctl')));
  if (!found) {
    throw new StackError(
      `PostgreSQL's initdb/pg_ctl not found (looked in ${candidates.join(', ') || 'nothing'}): install PostgreSQL (Debian: apt-get install postgresql-15) or set TWINFLOW_POSTGRES_BIN to the folder that has them`,
    );
  }
  return found;
}

/** Who runs PostgreSQL: this user, or `postgres` when this process is root. */
function runAs(): { uid?: number; gid?: number } {
  if (process.getuid?.() !== 0) return {};
  const uid = spawnSync('id', ['-u', 'postgres'], { encoding: 'utf8' });
  const gid = spawnSync('id', ['-g', 'postgres'], { encoding: 'utf8' });
  if (uid.status !== 0 || gid.status !== 0) throw new StackError('running as root: PostgreSQL must run as another user, and there is no `postgres` user (create one, or run twinflow as a normal user)');
  return { uid: Number(uid.stdout.trim()), gid: Number(gid.stdout.trim()) };
}

function chownTree(target: string, uid: number, gid: number): void {
  fs.chownSync(target, uid, gid);
  if (fs.statSync(target).isDirectory()) for (const e of fs.readdirSync(target)) chownTree(path.join(target, e), uid, gid);
}

export async function postgresReady(o: ClusterOptions): Promise<boolean> {
  const r = spawnSync(path.join(postgresBinDir(o), 'pg_isready'), ['-h', '127.0.0.1', '-p', String(o.postgresPort), '-q'], { timeout: 5000 });
  return r.status === 0;
}

/** initdb once, then pg_ctl start; returns the postmaster's pid (also recorded in the cluster's run folder). */
export async function postgresUp(o: ClusterOptions, log: (l: string) => void): Promise<number> {
  const bin = postgresBinDir(o);
  const user = runAs();
  const data = dataDir(o);
  fs.mkdirSync(socketDir(o), { recursive: true });
  fs.mkdirSync(path.dirname(logFileOf(o.dir, 'postgres')), { recursive: true });
  if (!fs.existsSync(path.join(data, 'PG_VERSION'))) {
    fs.mkdirSync(data, { recursive: true, mode: 0o700 });
    const pwfile = path.join(o.dir, 'postgres', 'pwfile');
    fs.writeFileSync(pwfile, `${POSTGRES_PASSWORD}\n`, { mode: 0o600 });
    if (user.uid !== undefined) chownTree(path.join(o.dir, 'postgres'), user.uid, user.gid!);
    log(`postgres: initdb ${data} (${bin})`);
    runOnce(path.join(bin, 'initdb'), ['-D', data, '-U', POSTGRES_USER, `--pwfile=${pwfile}`, '--auth=scram-sha-256', '-E', 'UTF8', '--locale=C'], { ...user, what: 'initdb' });
    fs.rmSync(pwfile, { force: true });
  }
  if (user.uid !== undefined) {
    fs.chownSync(socketDir(o), user.uid, user.gid!);
    // The log file is written by the server (as postgres).
    fs.closeSync(fs.openSync(logFileOf(o.dir, 'postgres'), 'a'));
    fs.chownSync(logFileOf(o.dir, 'postgres'), user.uid, user.gid!);
  }
  if (!(await postgresReady(o))) {
    log(`postgres: pg_ctl start on 127.0.0.1:${o.postgresPort}`);
    runOnce(
      path.join(bin, 'pg_ctl'),
      ['-D', data, '-l', logFileOf(o.dir, 'postgres'), '-w', '-t', '60', '-o', `-p ${o.postgresPort} -c listen_addresses=127.0.0.1 -k ${socketDir(o)} -c max_connections=200`, 'start'],
      { ...user, what: 'pg_ctl start' },
    );
    await waitFor('PostgreSQL', () => postgresReady(o), 60_000, logFileOf(o.dir, 'postgres'));
  } else log(`postgres: already running on 127.0.0.1:${o.postgresPort}`);
  const pid = postmasterPid(o);
  if (!pid) throw new StackError(`PostgreSQL answers on port ${o.postgresPort} but ${data}/postmaster.pid is missing: another server holds the port; set TWINFLOW_POSTGRES_PORT to a free port`);
  fs.mkdirSync(path.dirname(pidFileOf(o.dir, 'postgres')), { recursive: true });
  fs.writeFileSync(pidFileOf(o.dir, 'postgres'), `${pid}\npostgres\n`);
  return pid;
}

export function postmasterPid(o: ClusterOptions): number | undefined {
  try {
    const pid = Number(fs.readFileSync(path.join(dataDir(o), 'postmaster.pid'), 'utf8').split('\n')[0]);
    return Number.isInteger(pid) && pid > 0 ? pid : undefined;
  } catch {
    return undefined;
  }
}

export async function postgresDown(o: ClusterOptions, log: (l: string) => void): Promise<void> {
  fs.rmSync(pidFileOf(o.dir, 'postgres'), { force: true });
  if (!fs.existsSync(path.join(dataDir(o), 'postmaster.pid'))) {
    log('postgres: not running');
    return;
  }
  const pid = postmasterPid(o);
  runOnce(path.join(postgresBinDir(o), 'pg_ctl'), ['-D', dataDir(o), '-m', 'fast', '-w', 'stop'], { ...runAs(), what: 'pg_ctl stop' });
  log(`postgres: stopped (pid ${pid})`);
}
