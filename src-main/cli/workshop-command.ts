// podnet workshop: one server, a seat (its own world, terminals and progress) for each learner who joins,
// and the instructor's view. Prints the join URL for the room and the instructor's URL; runs until Ctrl-C.
import { existsSync, mkdirSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { UsageError } from './usage-error.js';
import { INSTRUCTOR_TOKEN, ROOM_CODE } from '../workshop/secrets.js';

const USAGE =
  'usage: podnet workshop [--seats N] [--host ADDR] [--port P] [--labs DIR] [--state DIR] [--idle-minutes M] [--public-url URL]';

/** --port: 0 (any free port) when not given. */
function portOf(value: string | undefined, usage: string): number {
  const port = value === undefined ? 0 : Number(value);
  if (!Number.isInteger(port) || port < 0 || port > 65535)
    throw new UsageError(`--port must be a port number, not "${value}"\n${usage}`);
  return port;
}

/** The room's code and the instructor's token from the environment, each checked when given. */
function roomSecrets(): { code?: string; instructorToken?: string } {
  const code = process.env.PODNET_ROOM_CODE;
  if (code !== undefined && !ROOM_CODE.test(code.toUpperCase()))
    throw new UsageError('PODNET_ROOM_CODE must be 6 to 16 letters and digits (no 0, 1, I or O)');
  const instructorToken = process.env.PODNET_INSTRUCTOR_TOKEN;
  if (instructorToken !== undefined && !INSTRUCTOR_TOKEN.test(instructorToken))
    throw new UsageError('PODNET_INSTRUCTOR_TOKEN must be 32 to 128 letters, digits, "-" and "_"');
  return { ...(code !== undefined ? { code } : {}), ...(instructorToken !== undefined ? { instructorToken } : {}) };
}

/** The longest a signal waits for every seat's world to end before the process exits anyway. */
const END_DEADLINE_MS = 8000;

export async function workshopCommand(
  args: string[],
  out: (s: string) => void,
  err: (s: string) => void,
): Promise<number> {
  if (args[0] === 'image') return imageCommand(args.slice(1), out);
  if (args[0] === 'front') return frontCommand(args.slice(1), out);
  const { values } = parseArgs({
    args,
    options: {
      seats: { type: 'string' },
      host: { type: 'string' },
      port: { type: 'string' },
      labs: { type: 'string' },
      state: { type: 'string' },
      'idle-minutes': { type: 'string' },
      'public-url': { type: 'string' },
    },
  });
  const seats = values.seats === undefined ? 30 : Number(values.seats);
  if (!Number.isInteger(seats) || seats < 1 || seats > 500)
    throw new UsageError(`--seats must be a whole number from 1 to 500, not "${values.seats}"\n${USAGE}`);
  const port = portOf(values.port, USAGE);
  const idle = values['idle-minutes'] === undefined ? 20 : Number(values['idle-minutes']);
  if (!Number.isFinite(idle) || idle <= 0 || idle > 24 * 60)
    throw new UsageError(
      `--idle-minutes must be a number of minutes above 0 (1440 at most), not "${values['idle-minutes']}"\n${USAGE}`,
    );
  const publicUrl = values['public-url'];
  if (publicUrl !== undefined && !/^https?:\/\/[^/?#]+\/?$/.test(publicUrl))
    throw new UsageError(
      `--public-url must be an origin such as https://seat-0.workshop.example, not "${publicUrl}"\n${USAGE}`,
    );
  // a cluster's seat servers share one room: its code and the instructor's token come from the environment (a Secret)
  const { code, instructorToken } = roomSecrets();
  const labsDir = values.labs ? resolve(values.labs) : undefined;
  if (labsDir && !existsSync(labsDir)) throw new UsageError(`--labs ${values.labs}: no such folder`);
  // each seat's progress lives under the state folder; by default a fresh one for this room
  const stateDir = values.state ? resolve(values.state) : mkdtempSync(join(tmpdir(), 'podnet-workshop-'));
  mkdirSync(stateDir, { recursive: true, mode: 0o700 });
  const rendererDir = join(import.meta.dirname, '../../renderer');
  if (!existsSync(join(rendererDir, 'index.html'))) {
    err('podnet workshop: the renderer is not built: run "npm run build"');
    return 1;
  }
  const { startWorkshop } = await import('../workshop/workshop-server.js');
  const ws = await startWorkshop({
    seats,
    idleMs: idle * 60_000,
    stateDir,
    rendererDir,
    ...(labsDir ? { labsDir } : {}),
    ...(values.host ? { host: values.host } : {}),
    ...(publicUrl ? { publicUrl: publicUrl.replace(/\/$/, '') } : {}),
    ...(code ? { code } : {}),
    ...(instructorToken ? { instructorToken } : {}),
    port,
  });
  out(`join: ${ws.joinUrl}`);
  out(`instructor: ${ws.instructorUrl}`);
  if (!values.host || values.host === '127.0.0.1')
    err('(bound to 127.0.0.1: only this machine can join; --host 0.0.0.0 opens it to the room)');
  err(
    `${seats} seats; each seat's progress in ${stateDir}; a world stops after ${idle} min idle. Ctrl-C ends the room.`,
  );
  return new Promise<number>((done) => {
    let ending = false;
    const end = () => {
      if (ending) return;
      ending = true;
      setTimeout(() => done(1), END_DEADLINE_MS).unref();
      void ws.close().then(
        () => done(0),
        () => done(1),
      );
    };
    for (const sig of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) process.on(sig, end);
  });
}

/** podnet workshop image [--out DIR] [--no-import]: the seat server's container image (docs/workshop.md). */
async function imageCommand(args: string[], out: (s: string) => void): Promise<number> {
  const { values } = parseArgs({ args, options: { out: { type: 'string' }, 'no-import': { type: 'boolean' } } });
  const { buildContainerImage, containerOutDir, imageSize, IMAGE_FILES } =
    await import('../workshop/container-image.js');
  const { mb } = await import('../vm/image.js');
  const t0 = performance.now();
  const m = await buildContainerImage({
    ...(values.out ? { out: values.out } : {}),
    import: !values['no-import'],
    log: (s) => out(`podnet workshop image: ${s}`),
  });
  const s = ((performance.now() - t0) / 1000).toFixed(0);
  const dir = values.out ? resolve(values.out) : containerOutDir();
  out(
    `podnet workshop image: ${join(dir, IMAGE_FILES.tar)} (${s} s): Node.js ${m.nodeVersion}, tar ${mb(m.sizes.tar)}`,
  );
  if (m.imageId)
    out(`podnet workshop image: ${m.tag} (${m.imageId.slice(0, 12)}), ${mb(imageSize(m.imageId))} in podman`);
  return 0;
}

/** podnet workshop front --servers URL[=PUBLIC],…: a cluster room's entrance (docs/workshop.md); runs until a signal. */
async function frontCommand(args: string[], out: (s: string) => void): Promise<number> {
  const usage = 'usage: podnet workshop front --servers URL[=PUBLIC_URL],... [--host ADDR] [--port P]';
  const { values } = parseArgs({
    args,
    options: { servers: { type: 'string' }, host: { type: 'string' }, port: { type: 'string' } },
  });
  const { parseServers, startFront } = await import('../workshop/front.js');
  if (!values.servers) throw new UsageError(`--servers is required\n${usage}`);
  let servers;
  try {
    servers = parseServers(values.servers);
  } catch (e) {
    throw new UsageError(`${(e as Error).message}\n${usage}`);
  }
  const port = portOf(values.port, usage);
  const { code, instructorToken } = roomSecrets();
  if (!code || !instructorToken)
    throw new UsageError(
      'the front needs the room’s PODNET_ROOM_CODE (6 to 16 letters and digits) and PODNET_INSTRUCTOR_TOKEN (32 or more URL-safe characters), the seat servers’ own',
    );
  const front = await startFront({
    servers,
    code,
    instructorToken,
    port,
    ...(values.host ? { host: values.host } : {}),
  });
  out(`front: ${front.url}/join?room=${code.toUpperCase()} → ${servers.length} seat servers`);
  return new Promise<number>((done) => {
    for (const sig of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const)
      process.on(sig, () => void front.close().then(() => done(0)));
  });
}
