/**
 * fetch() under a NetworkPolicy: an undici Agent whose connector checks the address of every connection it opens.
 *
 * - A host name is resolved by the connection's own lookup, which hands the socket only the allowed addresses, so
 *   the address checked is the address connected to (a second DNS answer cannot swap it: no rebinding window).
 * - An IP literal (no lookup happens for one) is checked before connecting.
 * - Once connected, the socket's remote address is checked again, whatever path led to it.
 *
 * Redirects open their connections through the same agent, so every hop is checked, whether the caller follows them
 * itself (the crawler) or fetch does (the LLM client).
 */
import net from 'node:net';
import { Agent, buildConnector, fetch as undiciFetch } from 'undici';
import { bareHost, type NetworkPolicy, networkPolicyFor, parseAllowList } from './network';

/** A net.connect `lookup` that resolves through the policy: only allowed addresses reach the socket. */
export function policyLookup(policy: NetworkPolicy): net.LookupFunction {
  return (hostname, options, callback) => {
    const family = options.family === 4 || options.family === 'IPv4' ? 4 : options.family === 6 || options.family === 'IPv6' ? 6 : 0;
    policy.resolve(hostname).then(
      (allowed) => {
        const list = family ? allowed.filter((a) => a.family === family) : allowed;
        if (list.length === 0) {
          const err = Object.assign(new Error(`getaddrinfo ENOTFOUND ${hostname} (no allowed IPv${family} address)`), { code: 'ENOTFOUND', hostname });
          return callback(err, '', 0);
        }
        if (options.all) (callback as unknown as (e: null, a: typeof list) => void)(null, list);
        else callback(null, list[0]!.address, list[0]!.family);
      },
      (err: NodeJS.ErrnoException) => callback(err, '', 0),
    );
  };
}

const agents = new WeakMap<NetworkPolicy, Agent>();

/** The connection pool of a policy (one per policy, shared by its fetches). */
export function policyDispatcher(policy: NetworkPolicy): Agent {
  let agent = agents.get(policy);
  if (agent) return agent;
  const base = buildConnector({ lookup: policyLookup(policy) });
  agent = new Agent({
    connect: (opts, callback) => {
      const host = bareHost(opts.hostname);
      if (net.isIP(host)) {
        const refused = policy.check(host, host);
        if (refused) return callback(refused, null);
      }
      base(opts, (err, socket) => {
        if (err || !socket) return callback(err ?? new Error(`no connection to ${host}`), null);
        const refused = socket.remoteAddress ? policy.check(host, socket.remoteAddress) : undefined;
        if (refused) {
          socket.destroy();
          return callback(refused, null);
        }
        callback(null, socket);
      });
    },
  });
  agents.set(policy, agent);
  return agent;
}

/**
 * A fetch whose connections the policy checks. A refusal rejects like any network failure ("fetch failed"), with
 * the NetworkRefusedError as its cause (findNetworkRefusal finds it).
 */
export function policyFetch(policy: NetworkPolicy): typeof fetch {
  const dispatcher = policyDispatcher(policy);
  const guarded = (input: Parameters<typeof undiciFetch>[0], init: Parameters<typeof undiciFetch>[1] = {}) => undiciFetch(input, { ...init, dispatcher });
  return guarded as unknown as typeof fetch;
}

/**
 * The policy of this process's TWINFLOW_ALLOW_NETWORKS, for code that runs without the worker's Config at hand
 * (the same variable lib/config.ts validates; unset: nothing but public addresses).
 */
export function networkPolicyFromEnv(env: NodeJS.ProcessEnv = process.env): NetworkPolicy {
  return networkPolicyFor(parseAllowList(env.TWINFLOW_ALLOW_NETWORKS ?? '').map((e) => e.text));
}
