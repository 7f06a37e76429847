// The container files' invariants (Docker cannot run here, so they are checked as data): the Dockerfile is
// multi-stage, runs compiled JavaScript with production dependencies as a non-root user under tini, with a health
// check; docker-compose.yml passes every setting of app/config.ts (and every one the README's table names), keeps role
// edits in a volume shared by server and workers, publishes only the app port (loopback by default), runs Redis with
// AOF and noeviction, and gives every service a health check or health-conditioned dependencies; the observability
// services sit under their profile with their config files in the repo, and traces have a viewer there (the collector
// forwards them to Jaeger, which Grafana has as a data source). The Node version is one, everywhere, and every locked
// package installed for Linux accepts it (no engine warning).
import { existsSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { z } from 'zod';
import { TEAMS_ENV } from '../../bot/teams/config';
import { REPO_ROOT } from '../support/app-process';

const read = (f: string) => readFileSync(path.join(REPO_ROOT, f), 'utf8');

const serviceSchema = z.object({
  image: z.string().optional(),
  profiles: z.array(z.string()).optional(),
  command: z.array(z.string()).optional(),
  ports: z.array(z.string()).optional(),
  environment: z.record(z.string(), z.string()).optional(),
  volumes: z.array(z.string()).optional(),
  healthcheck: z.object({ test: z.array(z.string()), disable: z.boolean().optional() }).passthrough().optional(),
  depends_on: z.record(z.string(), z.object({ condition: z.enum(['service_healthy', 'service_completed_successfully', 'service_started']) })).optional(),
}).passthrough();
const compose = z.object({ 'x-app-env': z.record(z.string(), z.string()), services: z.record(z.string(), serviceSchema), volumes: z.record(z.string(), z.unknown()) })
  .passthrough().parse(parse(read('docker-compose.yml'), { merge: true }));
const services = compose.services;

/** The variables app/config.ts reads: its zod schema's keys and the Teams ones it spreads in. */
function configVariables(): string[] {
  const source = read('app/config.ts');
  const schema = source.slice(source.indexOf('const envSchema'), source.indexOf('.superRefine'));
  return [...new Set([...schema.matchAll(/^\s+([A-Z][A-Z0-9_]+):/gm)].map((m) => m[1]!).concat(Object.keys(TEAMS_ENV)))];
}

/** The variables named in the README's configuration table. */
function readmeVariables(): string[] {
  const readme = read('README.md');
  const table = readme.slice(readme.indexOf('## Configuration'), readme.indexOf('\n## ', readme.indexOf('## Configuration') + 5));
  return [...new Set(table.split('\n').filter((l) => l.startsWith('| `')).flatMap((l) => [...l.split('|')[1]!.matchAll(/`([A-Z][A-Z0-9_]+)`/g)].map((m) => m[1]!)))];
}

describe('docker-compose.yml', () => {
  // Only for the embedded Redis that `npm start` runs; compose always sets REDIS_URL.
  const notForCompose = new Set(['REDIS_SERVER_BIN']);

  it('passes every setting of app/config.ts and of the README table to the server and the workers', () => {
    const env = compose['x-app-env'];
    const vars = configVariables();
    expect(vars.length).toBeGreaterThan(40);
    expect(vars.filter((v) => !notForCompose.has(v) && !(v in env))).toEqual([]);
    const named = readmeVariables();
    expect(named.length).toBeGreaterThan(20);
    expect(named.filter((v) => !notForCompose.has(v) && !(v in env))).toEqual([]);
    for (const s of ['app', 'worker']) expect(services[s]!.environment, s).toEqual(env);
    for (const secret of ['METRICS_TOKEN', 'ADMIN_SESSION_SECRET']) expect(env[secret], secret).toMatch(/^\$\{[A-Z_]+:\?/); // required
  });

  it('runs compiled JavaScript: the server, and workers with their health port', () => {
    expect(services.app!.command).toEqual(['node', '--enable-source-maps', 'dist/server.js']);
    expect(services.worker!.command).toEqual(['node', '--enable-source-maps', 'dist/worker.js']);
    expect(compose['x-app-env'].WORKER_HEALTH_PORT).toBe('3001');
    expect(services.worker!.healthcheck!.test.join(' ')).toContain('127.0.0.1:3001/ready');
  });

  it('keeps role edits in one volume shared by the server and every worker', () => {
    for (const s of ['app', 'worker']) expect(services[s]!.volumes, s).toContain('roles:/app/roles');
    expect(compose.volumes).toHaveProperty('roles');
    expect(compose['x-app-env'].ROLES_DIR).toBe('/app/roles');
  });

  it('publishes only the app port on all interfaces-capable binds; everything else on 127.0.0.1 or not at all', () => {
    for (const [name, s] of Object.entries(services)) {
      for (const p of s.ports ?? []) {
        expect(p, `${name} ${p}`).not.toMatch(/0\.0\.0\.0|^\d+(:\d+)?$/); // never all interfaces, never host-IP-less
        if (name === 'app') expect(p).toBe('${RC_BIND:-127.0.0.1}:${RC_PORT:-3000}:3000');
        else expect(p, `${name} ${p}`).toMatch(/^127\.0\.0\.1:\d+:\d+$/);
      }
    }
    for (const s of ['postgres', 'redis', 'worker']) expect(services[s]!.ports, s).toBeUndefined();
  });

  it('runs Redis with AOF and noeviction, PostgreSQL with a required password', () => {
    const cmd = services.redis!.command!.join(' ');
    expect(cmd).toContain('--appendonly yes');
    expect(cmd).toContain('--maxmemory-policy noeviction');
    expect(services.postgres!.environment!.POSTGRES_PASSWORD).toMatch(/^\$\{POSTGRES_PASSWORD:\?/);
  });

  it('gives every service a health check or dependencies that wait for health', () => {
    for (const [name, s] of Object.entries(services)) {
      const checked = !!s.healthcheck && !s.healthcheck.disable;
      const deps = Object.values(s.depends_on ?? {});
      expect(checked || (deps.length > 0 && deps.every((d) => d.condition === 'service_healthy')), name).toBe(true);
    }
    expect(services.worker!.depends_on!.app!.condition).toBe('service_healthy'); // migrations applied first
  });

  it('puts Prometheus, Grafana, the OpenTelemetry collector and Jaeger under the observability profile, with their files in the repo', () => {
    for (const s of ['prometheus', 'grafana', 'otel-collector', 'jaeger']) expect(services[s]!.profiles, s).toEqual(['observability']);
    for (const s of ['postgres', 'redis', 'app', 'worker']) expect(services[s]!.profiles, s).toBeUndefined();
    const mounted = Object.values(services).flatMap((s) => s.volumes ?? []).filter((v) => v.startsWith('./')).map((v) => v.split(':')[0]!);
    expect(mounted.length).toBeGreaterThanOrEqual(5);
    for (const f of mounted) expect(existsSync(path.join(REPO_ROOT, f)), f).toBe(true);
  });

  it('gives traces a viewer: the collector forwards them to Jaeger, whose UI is on loopback and a Grafana data source', () => {
    const collector = z.object({
      exporters: z.record(z.string(), z.object({ endpoint: z.string().optional() }).passthrough()),
      service: z.object({ pipelines: z.record(z.string(), z.object({ receivers: z.array(z.string()), exporters: z.array(z.string()) })) }),
    }).passthrough().parse(parse(read('deploy/otel/collector.yaml')));
    const traces = collector.service.pipelines.traces!;
    expect(traces.receivers).toContain('otlp');
    const toJaeger = traces.exporters.filter((e) => collector.exporters[e]?.endpoint === 'jaeger:4317');
    expect(toJaeger, 'a traces exporter to jaeger:4317 (OTLP gRPC)').toHaveLength(1);
    expect(toJaeger[0]).toMatch(/^otlp(\/|$)/);
    expect(services.jaeger!.image).toMatch(/^jaegertracing\/jaeger:2\.\d+\.\d+$/); // v2: OTLP in, UI on 16686, pinned
    expect(services.jaeger!.ports).toEqual(['127.0.0.1:16686:16686']);
    expect(services['otel-collector']!.depends_on!.jaeger!.condition).toBe('service_healthy');
    const grafanaDir = services.grafana!.volumes!.find((v) => v.endsWith(':/etc/grafana/provisioning:ro'))!.split(':')[0]!;
    const sources = z.object({ datasources: z.array(z.object({ type: z.string(), uid: z.string(), url: z.string() }).passthrough()) })
      .parse(parse(read(path.join(grafanaDir, 'datasources/jaeger.yml')))).datasources;
    expect(sources).toContainEqual(expect.objectContaining({ type: 'jaeger', uid: 'jaeger', url: 'http://jaeger:16686' }));
    // the console's trace links point at the same viewer in the README's compose instructions
    expect(read('README.md')).toContain('OTEL_TRACE_URL_TEMPLATE=http://localhost:16686/trace/{traceId}');
  });
});

describe('Dockerfile', () => {
  const dockerfile = read('Dockerfile');
  const stages = dockerfile.split(/^FROM /m).slice(1).map((s) => ({ from: s.split('\n')[0]!, body: s }));
  const runtime = stages.at(-1)!;

  it('is multi-stage: the build compiles, the runtime stage gets production dependencies and the build output only', () => {
    expect(stages.map((s) => s.from.split(' AS ')[1])).toEqual(['build', 'deps', 'runtime']);
    expect(stages[0]!.body).toMatch(/RUN npm run build/);
    expect(stages[1]!.body).toMatch(/npm ci --omit=dev --ignore-scripts/);
    expect(runtime.body).not.toMatch(/npm (ci|install)|tsx/);
    expect(runtime.body).toContain('COPY --from=deps --chown=root:root /app/node_modules ./node_modules');
    expect(runtime.body).toContain('COPY --from=build --chown=root:root /src/dist ./dist');
    expect(runtime.body).toMatch(/^CMD \["node", "--enable-source-maps", "dist\/server\.js"\]$/m);
  });

  it('runs as a non-root user under tini, with a health check', () => {
    const users = [...runtime.body.matchAll(/^USER (\S+)$/gm)].map((m) => m[1]!);
    expect(users.at(-1)).toBe('node');
    expect(runtime.body).toMatch(/^ENTRYPOINT \["\/usr\/bin\/tini", "--"\]$/m);
    expect(runtime.body).toMatch(/^HEALTHCHECK .*\n\s+CMD .*\/health/m);
  });

  it('uses the Node.js LTS version that CI uses and package.json allows', () => {
    const version = read('.ci/node-version').trim();
    expect(dockerfile).toContain(`ARG NODE_IMAGE=node:${version}-bookworm-slim`);
    expect(Number(version.split('.')[0]) % 2).toBe(0); // even majors are the LTS lines
    expect(JSON.parse(read('package.json')).engines.node).toBe(`>=${version.split('.')[0]}`);
  });

  it('installs on that Node.js without an engine warning: every locked package the image installs accepts it', () => {
    const version = read('.ci/node-version').trim();
    const satisfies = createRequire(import.meta.url)('semver').satisfies as (v: string, range: string) => boolean;
    const lock = z.object({ packages: z.record(z.string(), z.object({
      engines: z.union([z.record(z.string(), z.string()), z.array(z.string())]).optional(),
      os: z.array(z.string()).optional(), cpu: z.array(z.string()).optional(),
    }).passthrough()) }).passthrough().parse(JSON.parse(read('package-lock.json')));
    // npm skips (and does not check) optional packages for another platform: the image is linux on x64 or arm64
    const forLinux = (p: { os?: string[]; cpu?: string[] }) => (!p.os || p.os.includes('linux')) && (!p.cpu || p.cpu.some((c) => c === 'x64' || c === 'arm64'));
    const refused = Object.entries(lock.packages)
      .filter(([name, p]) => name && forLinux(p) && !Array.isArray(p.engines) && p.engines?.node && !satisfies(version, p.engines.node))
      .map(([name, p]) => `${name} ${(p.engines as Record<string, string>).node}`);
    expect(refused).toEqual([]);
    expect(Object.keys(lock.packages).length).toBeGreaterThan(100);
  });

  it('keeps secrets, local data and dependencies out of the build context', () => {
    const ignored = read('.dockerignore').split('\n');
    for (const p of ['.git', 'node_modules', '.env', '.data', 'dist', 'generated', '.tools']) expect(ignored, p).toContain(p);
  });
});
