// The Helm chart (deploy/helm/rolecall), rendered offline by the real helm binary (.ci/tools) with its defaults and
// with every option on: `helm lint` passes, every rendered object validates against the Kubernetes JSON schemas
// (kubernetes-models; KEDA's from @kubernetes-models/keda), and the chart's invariants hold: probes on every
// container, no root, read-only root filesystems, limits set, PDBs and NetworkPolicies for both Deployments, the
// migration Job as a pre-install/pre-upgrade hook, secrets only from the existing Secret, and worker autoscaling on
// the jobs waiting in BullMQ's wait list and prioritized set (KEDA) or by HPA; the optional PgBouncer (transaction
// mode) is for the workers only, while the servers and the migration Job keep the direct DATABASE_URL.
import { execFileSync } from 'node:child_process';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { parseAllDocuments } from 'yaml';
import { ConfigMap, PersistentVolumeClaim, Service } from 'kubernetes-models/v1';
import { Deployment } from 'kubernetes-models/apps/v1';
import { Job } from 'kubernetes-models/batch/v1';
import { HorizontalPodAutoscaler } from 'kubernetes-models/autoscaling/v2';
import { Ingress, NetworkPolicy } from 'kubernetes-models/networking.k8s.io/v1';
import { PodDisruptionBudget } from 'kubernetes-models/policy/v1';
import { ScaledObject } from '@kubernetes-models/keda/keda.sh/v1alpha1';
import { REPO_ROOT } from '../support/app-process';

const HELM = path.join(REPO_ROOT, '.tools/bin/helm');
const CHART = path.join(REPO_ROOT, 'deploy/helm/rolecall');
type Obj = { apiVersion: string; kind: string; metadata: { name: string; annotations?: Record<string, string> }; spec?: any; data?: Record<string, string> };

const MODELS: Record<string, new (o: any) => { validate(): void }> = {
  'v1/ConfigMap': ConfigMap, 'v1/Service': Service, 'v1/PersistentVolumeClaim': PersistentVolumeClaim,
  'apps/v1/Deployment': Deployment, 'batch/v1/Job': Job, 'autoscaling/v2/HorizontalPodAutoscaler': HorizontalPodAutoscaler,
  'networking.k8s.io/v1/Ingress': Ingress, 'networking.k8s.io/v1/NetworkPolicy': NetworkPolicy,
  'policy/v1/PodDisruptionBudget': PodDisruptionBudget, 'keda.sh/v1alpha1/ScaledObject': ScaledObject,
};

function render(...sets: string[]): Obj[] {
  const out = execFileSync(HELM, ['template', 'rc', CHART, '--namespace', 'rolecall', ...sets.flatMap((s) => ['--set', s])], { encoding: 'utf8' });
  return parseAllDocuments(out).map((d) => d.toJS() as Obj | null).filter((o): o is Obj => !!o);
}

const base = ['existingSecret=rolecall-env'];
const everything = [...base, 'ingress.enabled=true', 'ingress.tlsSecret=rolecall-tls', 'rolesPersistence.enabled=true', 'autoscaling.keda.enabled=true', 'autoscaling.keda.redisAddress=redis:6379'];
const withHpa = [...base, 'autoscaling.hpa.enabled=true', 'autoscaling.hpa.externalQueueMetric=rolecall_queue_waiting'];
const variants: [string, string[]][] = [['defaults', base], ['everything on (KEDA)', everything], ['HPA', withHpa]];

const byKind = (objs: Obj[], kind: string) => objs.filter((o) => o.kind === kind);
// Where a container's DATABASE_URL comes from: an `env` entry (which wins over envFrom) or the key of that name in the
// envFrom Secret (no prefix).
function databaseUrlSource(c: any): { name: string; key: string } {
  const own = (c.env ?? []).find((e: { name: string }) => e.name === 'DATABASE_URL');
  if (own) return own.valueFrom.secretKeyRef;
  const fromSecret = c.envFrom.find((f: { secretRef?: unknown }) => f.secretRef);
  expect(fromSecret.prefix).toBeUndefined();
  return { name: fromSecret.secretRef.name, key: 'DATABASE_URL' };
}
const podSpecs = (objs: Obj[]) => [...byKind(objs, 'Deployment'), ...byKind(objs, 'Job')].map((o) => ({ name: o.metadata.name, spec: o.spec.template.spec }));

describe('the Helm chart', () => {
  it('passes helm lint, and refuses to render without an existing Secret or with both autoscalers', () => {
    expect(execFileSync(HELM, ['lint', CHART, '--set', base[0]!], { encoding: 'utf8' })).toContain('0 chart(s) failed');
    expect(() => render()).toThrow(/existingSecret/);
    expect(() => render(...everything, 'autoscaling.hpa.enabled=true')).toThrow(/keda or hpa, not both/);
  });

  it('validates for real: a wrong type or a missing required field is caught', () => {
    const objs = render(...base);
    const d = structuredClone(byKind(objs, 'Deployment')[0]!);
    d.spec.replicas = 'two';
    expect(() => new Deployment(d as never).validate()).toThrow();
    const p = structuredClone(byKind(objs, 'PodDisruptionBudget')[0]!);
    p.spec.selector = { matchLabels: 'x' };
    expect(() => new PodDisruptionBudget(p as never).validate()).toThrow();
  });

  it.each(variants)('renders objects that validate against the Kubernetes schemas (%s)', (_, sets) => {
    const objs = render(...sets);
    expect(objs.length).toBeGreaterThanOrEqual(10);
    for (const o of objs) {
      const Model = MODELS[`${o.apiVersion}/${o.kind}`];
      expect(Model, `${o.apiVersion}/${o.kind} has a schema here`).toBeDefined();
      expect(() => new Model!(o).validate(), `${o.kind} ${o.metadata.name}`).not.toThrow();
    }
  });

  it.each(variants)('puts probes, limits and no root on every container (%s)', (_, sets) => {
    const objs = render(...sets);
    for (const { name, spec } of podSpecs(objs)) {
      expect(spec.securityContext, name).toMatchObject({ runAsNonRoot: true, runAsUser: 1000 });
      expect(spec.automountServiceAccountToken, name).toBe(false);
      for (const c of [...(spec.initContainers ?? []), ...spec.containers]) {
        expect(c.securityContext, `${name}/${c.name}`).toMatchObject({ runAsNonRoot: true, allowPrivilegeEscalation: false, readOnlyRootFilesystem: true, capabilities: { drop: ['ALL'] } });
        expect(c.resources?.limits?.cpu && c.resources?.limits?.memory, `${name}/${c.name} limits`).toBeTruthy();
        expect(c.resources?.requests?.cpu && c.resources?.requests?.memory, `${name}/${c.name} requests`).toBeTruthy();
        expect(c.command.slice(0, 2), `${name}/${c.name}`).toEqual(c.name === 'seed-roles' ? ['sh', '-c'] : ['/usr/bin/tini', '--']);
      }
      for (const c of spec.containers) {
        if (name.endsWith('-migrate')) continue; // a Job's container runs to completion: no probes
        for (const probe of ['startupProbe', 'livenessProbe', 'readinessProbe']) expect(c[probe]?.httpGet, `${name}/${c.name} ${probe}`).toBeDefined();
        expect(c.readinessProbe.httpGet.path).toBe('/ready');
      }
    }
  });

  it('runs servers and workers with PDBs, NetworkPolicies, config from a ConfigMap and secrets from the existing Secret', () => {
    const objs = render(...everything);
    const deployments = byKind(objs, 'Deployment');
    expect(deployments.map((d) => d.metadata.name).sort()).toEqual(['rc-rolecall-server', 'rc-rolecall-worker']);
    const pdbs = byKind(objs, 'PodDisruptionBudget').map((p) => p.spec.selector.matchLabels['app.kubernetes.io/component']);
    expect(pdbs.sort()).toEqual(['server', 'worker']);
    const policies = byKind(objs, 'NetworkPolicy').map((p) => p.spec.podSelector.matchLabels['app.kubernetes.io/component']);
    expect(policies.sort()).toEqual(['migrate', 'server', 'worker']);
    for (const d of deployments) {
      const c = d.spec.template.spec.containers[0];
      expect(c.envFrom).toEqual([{ configMapRef: { name: 'rc-rolecall' } }, { secretRef: { name: 'rolecall-env' } }]);
      expect(JSON.stringify(c)).not.toMatch(/"value":"(xox|sk-|rc_)/); // no secret values inline
      expect(d.spec.template.spec.volumes).toContainEqual({ name: 'roles', persistentVolumeClaim: { claimName: 'rc-rolecall-roles' } });
    }
    expect(byKind(objs, 'Secret')).toEqual([]); // the chart never creates one
    expect(byKind(objs, 'ConfigMap')[0]!.data).toMatchObject({ WORKER_HEALTH_PORT: '3001', NODE_ENV: 'production' });
    expect(byKind(objs, 'PersistentVolumeClaim')[0]!.spec.accessModes).toEqual(['ReadWriteMany']);
    const ingress = byKind(objs, 'Ingress')[0]!;
    expect(ingress.spec.rules[0].http.paths[0].backend.service).toEqual({ name: 'rc-rolecall', port: { name: 'http' } });
  });

  it('migrates in a pre-install/pre-upgrade hook Job that needs only the existing Secret', () => {
    const job = byKind(render(...base), 'Job')[0]!;
    expect(job.metadata.annotations).toMatchObject({ 'helm.sh/hook': 'pre-install,pre-upgrade' });
    const c = job.spec.template.spec.containers[0];
    expect(c.command).toEqual(['/usr/bin/tini', '--', 'node', '--enable-source-maps', 'dist/migrate.js']);
    expect(c.envFrom).toEqual([{ secretRef: { name: 'rolecall-env' } }]); // hooks run before the ConfigMap exists
  });

  it('routes only the workers through an optional PgBouncer in transaction mode, which only they may reach', () => {
    const sets = [...base, 'pgbouncer.enabled=true'];
    expect(execFileSync(HELM, ['lint', CHART, ...sets.flatMap((s) => ['--set', s])], { encoding: 'utf8' })).toContain('0 chart(s) failed');
    const objs = render(...sets);
    for (const o of objs) expect(() => new MODELS[`${o.apiVersion}/${o.kind}`]!(o).validate(), `${o.kind} ${o.metadata.name}`).not.toThrow();
    const deployment = (name: string) => byKind(objs, 'Deployment').find((d) => d.metadata.name === `rc-rolecall-${name}`)!;
    const pgb = deployment('pgbouncer');
    expect(pgb.spec.template.spec.securityContext).toMatchObject({ runAsNonRoot: true, runAsUser: 70 });
    expect(pgb.spec.template.spec.automountServiceAccountToken).toBe(false);
    const c = pgb.spec.template.spec.containers[0];
    expect(c.image).toMatch(/^edoburu\/pgbouncer:v\d+\.\d+\.\d+/); // the compose image, a pinned tag
    const env = Object.fromEntries(c.env.filter((e: { value?: string }) => e.value !== undefined).map((e: { name: string; value: string }) => [e.name, e.value]));
    expect(env).toMatchObject({ POOL_MODE: 'transaction', LISTEN_PORT: '6432', DEFAULT_POOL_SIZE: '20', MAX_CLIENT_CONN: '1000', MAX_PREPARED_STATEMENTS: '100' });
    expect(databaseUrlSource(c)).toEqual({ name: 'rolecall-env', key: 'DATABASE_URL' }); // upstream: the servers' URL
    expect(c.ports).toEqual([{ name: 'pgbouncer', containerPort: 6432 }]);
    for (const probe of ['startupProbe', 'livenessProbe', 'readinessProbe']) expect(c[probe]?.tcpSocket, probe).toEqual({ port: 'pgbouncer' });
    expect(c.securityContext).toMatchObject({ runAsNonRoot: true, allowPrivilegeEscalation: false, readOnlyRootFilesystem: true, capabilities: { drop: ['ALL'] } });
    expect(c.resources?.limits?.cpu && c.resources?.limits?.memory && c.resources?.requests?.cpu && c.resources?.requests?.memory).toBeTruthy();
    expect(c.volumeMounts).toEqual([{ name: 'config', mountPath: '/etc/pgbouncer' }]); // where the entrypoint writes its ini
    const service = byKind(objs, 'Service').find((s) => s.metadata.name === 'rc-rolecall-pgbouncer')!;
    expect(service.spec.ports).toEqual([{ name: 'pgbouncer', port: 6432, targetPort: 'pgbouncer' }]);
    expect(service.spec.selector['app.kubernetes.io/component']).toBe('pgbouncer');
    const pdbs = byKind(objs, 'PodDisruptionBudget').map((p) => p.spec.selector.matchLabels['app.kubernetes.io/component']);
    expect(pdbs.sort()).toEqual(['pgbouncer', 'server', 'worker']);
    // The workers through PgBouncer; the servers (migrations at start: a session advisory lock) and the Job direct.
    expect(databaseUrlSource(deployment('worker').spec.template.spec.containers[0])).toEqual({ name: 'rolecall-env', key: 'DATABASE_URL_PGBOUNCER' });
    expect(databaseUrlSource(deployment('server').spec.template.spec.containers[0])).toEqual({ name: 'rolecall-env', key: 'DATABASE_URL' });
    expect(databaseUrlSource(byKind(objs, 'Job')[0]!.spec.template.spec.containers[0])).toEqual({ name: 'rolecall-env', key: 'DATABASE_URL' });
    const policy = byKind(objs, 'NetworkPolicy').find((p) => p.spec.podSelector.matchLabels['app.kubernetes.io/component'] === 'pgbouncer')!;
    expect(policy.spec.policyTypes).toEqual(['Ingress']);
    expect(policy.spec.ingress).toEqual([{
      ports: [{ port: 6432, protocol: 'TCP' }],
      from: [{ podSelector: { matchLabels: { 'app.kubernetes.io/name': 'rolecall', 'app.kubernetes.io/instance': 'rc', 'app.kubernetes.io/component': 'worker' } } }],
    }]);
    expect(() => render(...sets, 'pgbouncer.workerDatabaseUrlKey=DATABASE_URL')).toThrow(/workerDatabaseUrlKey/);
    // Off by default: nothing of PgBouncer, and every process on the direct URL.
    const defaults = render(...base);
    expect(JSON.stringify(defaults)).not.toMatch(/pgbouncer/i);
    for (const { name, spec } of podSpecs(defaults)) expect(databaseUrlSource(spec.containers[0]), name).toEqual({ name: 'rolecall-env', key: 'DATABASE_URL' });
  });

  it('scales workers on the jobs waiting in both lanes with KEDA, or with an HPA', () => {
    const keda = render(...everything, 'config.QUEUE_PREFIX=prod');
    const scaled = byKind(keda, 'ScaledObject')[0]!;
    expect(scaled.spec.scaleTargetRef.name).toBe('rc-rolecall-worker');
    // Both lanes: continuations on the wait list, intakes in the prioritized set (orchestrator/lanes.ts).
    expect(scaled.spec.triggers).toEqual(['wait', 'prioritized'].map((set) => ({ type: 'redis', metadata: { address: 'redis:6379', listName: `prod:rolecall:${set}`, listLength: '20' } })));
    expect(byKind(keda, 'Deployment').find((d) => d.metadata.name.endsWith('worker'))!.spec.replicas).toBeUndefined(); // the autoscaler owns it
    const hpa = byKind(render(...withHpa), 'HorizontalPodAutoscaler')[0]!;
    expect(hpa.spec.scaleTargetRef).toEqual({ apiVersion: 'apps/v1', kind: 'Deployment', name: 'rc-rolecall-worker' });
    expect(hpa.spec.metrics.map((m: { type: string }) => m.type)).toEqual(['Resource', 'External']);
    expect(byKind(render(...base), 'ScaledObject')).toEqual([]);
  });
});
