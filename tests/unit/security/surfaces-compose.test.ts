/**
 * infra/docker-compose.yml (#12): it parses; outside the `local-only` profile no service carries a literal credential
 * (each secret is `${VAR:?message}`: required, no default) and Temporal, Qdrant and MinIO are configured with
 * authentication or bound to loopback; the local-only services bind every port to 127.0.0.1.
 */
import fs from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { PROJECT_ROOT } from '../../../lib/config';

interface Service {
  profiles?: string[];
  environment?: Record<string, string | number>;
  ports?: string[];
}
const compose = parse(fs.readFileSync(path.join(PROJECT_ROOT, 'infra', 'docker-compose.yml'), 'utf8'), { merge: true }) as { services: Record<string, Service> };
const services = Object.entries(compose.services);
const SECRET_NAME = /PASSWORD|PWD|SECRET|API_KEY|ACCESS_KEY|TOKEN|ROOT_USER|CODEC_KEYS/;
/** Well-known development passwords: in no value of a non-local service at all. */
const KNOWN_DEFAULTS = /minioadmin|changeme/i;
/** Required, without a default: compose refuses to start while it is unset. */
const REQUIRED = /^\$\{[A-Z_]+:\?[^}]*\}$/;
/** Optional and empty by default (an API key nobody has to have, e.g. HF_TOKEN). */
const OPTIONAL_EMPTY = /^\$\{[A-Z_]+:-\}$/;

describe('infra/docker-compose.yml', () => {
  it('has a production and a local-only profile, and every service is in one of them (or gpu)', () => {
    const profiles = new Set(services.flatMap(([, s]) => s.profiles ?? []));
    expect([...profiles].sort()).toEqual(['gpu', 'local-only', 'production']);
    for (const [name, s] of services) expect(s.profiles, name).toBeDefined();
  });

  it('has no literal or defaulted credential outside the local-only profile', () => {
    const checked: string[] = [];
    for (const [name, s] of services) {
      if (s.profiles?.includes('local-only')) continue;
      for (const [key, raw] of Object.entries(s.environment ?? {})) {
        const value = String(raw);
        expect(value, `${name}.${key}`).not.toMatch(KNOWN_DEFAULTS);
        if (!SECRET_NAME.test(key)) continue;
        expect(value, `${name}.${key}`).not.toMatch(/^temporal$/);
        checked.push(`${name}.${key}`);
        expect(REQUIRED.test(value) || OPTIONAL_EMPTY.test(value), `${name}.${key} = ${value}`).toBe(true);
      }
    }
    // The credentials that guard data are required, not optional.
    const env = (svc: string) => compose.services[svc]!.environment!;
    for (const [svc, key] of [
      ['postgresql', 'POSTGRES_PASSWORD'],
      ['temporal', 'POSTGRES_PWD'],
      ['minio', 'MINIO_ROOT_PASSWORD'],
      ['minio', 'MINIO_ROOT_USER'],
      ['qdrant', 'QDRANT__SERVICE__API_KEY'],
      ['worker-cpu', 'AWS_SECRET_ACCESS_KEY'],
      ['worker-cpu', 'QDRANT_API_KEY'],
      ['worker-gpu', 'QDRANT_API_KEY'],
    ] as const) {
      expect(String(env(svc)[key]), `${svc}.${key}`).toMatch(REQUIRED);
    }
    expect(checked.length).toBeGreaterThan(10);
  });

  it('binds Temporal, its UI, MinIO and Qdrant to loopback in both profiles (Temporal has no auth of its own)', () => {
    for (const [name, s] of services) {
      for (const p of s.ports ?? []) expect(p, `${name} publishes ${p}`).toMatch(/^127\.0\.0\.1:/);
    }
    expect(compose.services.temporal!.ports).toEqual(['127.0.0.1:7233:7233']);
  });

  it('keeps the development credentials in local-only services only', () => {
    const withDefaults = services.filter(([, s]) => Object.values(s.environment ?? {}).some((v) => /minioadmin/.test(String(v)))).map(([n]) => n);
    expect(withDefaults.length).toBeGreaterThan(0);
    for (const n of withDefaults) expect(compose.services[n]!.profiles).toEqual(['local-only']);
  });
});
