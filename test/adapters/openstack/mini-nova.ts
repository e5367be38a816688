/**
 * A small Nova on FakeOpenStackWire for unit tests and benches of the moves: compute services (read,
 * disable/enable), servers (list with host and changes-since as Nova filters them: updated ≥ since;
 * show), migration records (host, instance_uuid, changes-since) and live migrations that finish by
 * themselves `moveMs` after the request. As in Nova: the API sets the server's task before it answers
 * 202; the record is created `accepted` with no `updated_at` (so `changes-since` cannot show it) and
 * first updated (`running`) a moment later; it is marked completed 20 ms after the server landed.
 * With `notify`, it tells of each move's end as nova-compute does on the bus.
 */
import type { PlannedInstance } from '../../../actions/steps/migrate-instances.js';
import type { FakeOpenStackWire, Recorded } from './fake-openstack-wire.js';

interface NovaServer {
  id: string;
  name: string;
  status: string;
  task: string | null;
  host: string;
  updated: number;
}
interface NovaMigration {
  id: number;
  uuid: string;
  server: string;
  status: string;
  source: string;
  dest: string;
  /** null until Nova first updates the record (a new record has no updated_at). */
  updated: number | null;
}

/** A Nova that moves servers by itself: the API call sets the task, the "compute" finishes `moveMs` later. */
export class MiniNova {
  servers = new Map<string, NovaServer>();
  migrations: NovaMigration[] = [];
  private timers: ReturnType<typeof setTimeout>[] = [];
  /** Compute services by host (os-services; PUT changes status and reason). */
  services = new Map<string, { id: string; host: string; status: string; disabledReason: string | null }>();
  constructor(
    readonly wire: FakeOpenStackWire,
    readonly o: {
      moveMs: number;
      /**
       * Nova's versioned notifications of a live migration's end, as nova-compute sends them: the
       * destination's `live_migration_post_dest.end` once the instance is saved there, then the
       * source's `live_migration_post.end`; the record is completed 20 ms later.
       */
      notify?: (eventType: string, instance: { uuid: string; host: string; state: string; task_state: string | null }) => void;
    },
  ) {
    for (const [k, host] of ['c01', 'c02'].entries())
      this.services.set(host, { id: `aaaaaaaa-0000-4000-8000-00000000000${k + 1}`, host, status: 'enabled', disabledReason: null });
    const service = (s: { id: string; host: string; status: string; disabledReason: string | null }) => ({
      id: s.id,
      host: s.host,
      binary: 'nova-compute',
      zone: 'nova',
      status: s.status,
      state: 'up',
      disabled_reason: s.disabledReason,
      forced_down: false,
      updated_at: new Date().toISOString(),
    });
    wire.route('GET', /^\/compute\/v2\.1\/os-services/, (r) => {
      const host = new URL(r.path, 'http://x').searchParams.get('host');
      return { status: 200, body: { services: [...this.services.values()].filter((s) => !host || s.host === host).map(service) } };
    });
    wire.route('PUT', /^\/compute\/v2\.1\/os-services\/[^/]+$/, (r) => {
      const s = [...this.services.values()].find((x) => x.id === r.path.split('/').at(-1))!;
      const b = r.body as { status?: string; disabled_reason?: string };
      if (b.status) Object.assign(s, { status: b.status, disabledReason: b.status === 'disabled' ? (b.disabled_reason ?? null) : null });
      return { status: 200, body: { service: service(s) } };
    });
    const query = (r: Recorded) => new URL(r.path, 'http://x').searchParams;
    const since = (r: Recorded) => {
      const v = query(r).get('changes-since');
      return v ? Date.parse(v) : -Infinity;
    };
    const server = (s: NovaServer) => ({
      id: s.id,
      name: s.name,
      status: s.status,
      'OS-EXT-STS:task_state': s.task,
      'OS-EXT-SRV-ATTR:host': s.host,
      updated: new Date(s.updated).toISOString(),
    });
    const migration = (m: NovaMigration) => ({
      id: m.id,
      uuid: m.uuid,
      instance_uuid: m.server,
      status: m.status,
      migration_type: 'live-migration',
      source_compute: m.source,
      dest_compute: m.dest,
      updated_at: m.updated === null ? null : new Date(m.updated).toISOString(),
    });
    wire.route('GET', /^\/compute\/v2\.1\/servers\/detail/, (r) => {
      const q = query(r);
      const list = [...this.servers.values()].filter((s) => s.updated >= since(r) && (!q.get('host') || s.host === q.get('host')));
      return { status: 200, body: { servers: list.map(server) } };
    });
    wire.route('GET', /^\/compute\/v2\.1\/servers\/[^/?]+$/, (r) => {
      const s = this.servers.get(r.path.split('/').at(-1)!);
      return s ? { status: 200, body: { server: server(s) } } : { status: 404, body: { itemNotFound: { code: 404, message: 'not found' } } };
    });
    wire.route('GET', /^\/compute\/v2\.1\/os-migrations/, (r) => {
      const q = query(r);
      const list = this.migrations.filter(
        (m) =>
          (since(r) === -Infinity || (m.updated !== null && m.updated >= since(r))) &&
          (!q.get('host') || m.source === q.get('host') || m.dest === q.get('host')) &&
          (!q.get('instance_uuid') || m.server === q.get('instance_uuid')),
      );
      return { status: 200, body: { migrations: list.map(migration) } };
    });
    wire.route('POST', /^\/compute\/v2\.1\/servers\/[^/]+\/action$/, (r) => {
      const s = this.servers.get(r.path.split('/').at(-2)!)!;
      const dest = ((r.body as { 'os-migrateLive': { host: string } })['os-migrateLive'].host ?? 'c02') as string;
      const m: NovaMigration = {
        id: this.migrations.length + 1,
        uuid: `m-${s.id}`,
        server: s.id,
        status: 'accepted',
        source: s.host,
        dest,
        updated: null,
      };
      this.migrations.push(m);
      Object.assign(s, { status: 'MIGRATING', task: 'migrating', updated: Date.now() });
      this.timers.push(setTimeout(() => Object.assign(m, { status: 'running', updated: Date.now() }), Math.min(30, this.o.moveMs / 4)));
      this.timers.push(
        setTimeout(() => {
          Object.assign(s, { status: 'ACTIVE', task: null, host: dest, updated: Date.now() });
          for (const e of ['instance.live_migration_post_dest.end', 'instance.live_migration_post.end'])
            this.o.notify?.(e, { uuid: s.id, host: dest, state: 'active', task_state: null });
          // Nova marks the record completed a moment after the instance landed
          this.timers.push(setTimeout(() => Object.assign(m, { status: 'completed', updated: Date.now() }), 20));
        }, this.o.moveMs),
      );
      return { status: 202 };
    });
  }
  add(n: number, host = 'c01', updated = Date.now()): PlannedInstance[] {
    return Array.from({ length: n }, (_, k) => {
      const id = `00000000-0000-4000-8000-${String(this.servers.size + 1).padStart(12, '0')}`;
      this.servers.set(id, { id, name: `vm-${k}`, status: 'ACTIVE', task: null, host, updated });
      return { id, name: `vm-${k}`, status: 'ACTIVE', kind: 'live' as const };
    });
  }
  stop() {
    for (const t of this.timers) clearTimeout(t);
  }
}
