import { containerCreateOptions, containerName, LABELS, shortNodeId } from '../../src/runtime/index.js';
import { stackNetworks } from '../../src/runtime/create-options.js';
import { taskEnvironment } from '../../src/runtime/task-env.js';
import { assignment, serviceFromCompose, task } from './fixtures.js';

const NODE = '12D3KooWNodeIdentifierXYZ123456';

describe('containerCreateOptions()', () => {
  const spec = serviceFromCompose(
    `
image: shoal-test/busybox:latest
command: ["sh", "-c", "echo hi"]
entrypoint: ["/bin/env"]
environment: { A: "1" }
labels: { team: data }
working_dir: /work
user: "1000:1000"
hostname: box
init: true
read_only: true
cap_add: [NET_ADMIN]
cap_drop: [ALL]
dns: [10.0.0.2]
extra_hosts: ["db:10.0.0.5"]
sysctls: { net.core.somaxconn: "1024" }
shm_size: 64m
stop_signal: SIGINT
stop_grace_period: 2500ms
ports: ["127.0.0.1:8080:80", "9000/udp"]
volumes: ["data:/data:ro", "/srv/cfg:/cfg", { type: tmpfs, target: /scratch, tmpfs: { size: 1048576 } }]
healthcheck: { test: ["CMD", "true"], interval: 2s, timeout: 1s, retries: 3, start_period: 5s }
deploy:
  resources:
    limits: { cpus: '1.5', memory: 256M, pids: 100 }
    reservations: { memory: 128M }
  restart_policy: { condition: on-failure }
`,
    'web',
    'app',
    'volumes:\n  data: {}\n',
  );
  const options = containerCreateOptions(
    NODE,
    assignment(task({ id: 'task-1', slot: 3, generation: 7, nodeId: NODE }), spec),
  );

  it('containerCreateOptions() names the container after stack, service, slot and task', () => {
    expect(options.name).toBe('shoal-app_web.3.task-1');
  });

  it('containerCreateOptions() uses the node short id for a global task (slot 0)', () => {
    const name = containerName(NODE, assignment(task({ id: 't', slot: 0, nodeId: NODE }), spec));
    expect(name).toBe(`shoal-app_web.${NODE.slice(-12)}.t`);
  });

  it('containerCreateOptions() labels the container with node, task, generation, service and stack plus the spec labels', () => {
    expect(options.Labels).toMatchObject({
      team: 'data',
      [LABELS.nodeId]: NODE,
      [LABELS.taskId]: 'task-1',
      [LABELS.generation]: '7',
      [LABELS.serviceId]: 'app_web',
      [LABELS.stack]: 'app',
    });
  });

  it('containerCreateOptions() carries process settings over', () => {
    expect(options).toMatchObject({
      Image: 'shoal-test/busybox:latest',
      Cmd: ['sh', '-c', 'echo hi'],
      Entrypoint: ['/bin/env'],
      Env: ['A=1', 'SHOAL_TASK_ID=task-1', 'SHOAL_TASK_SLOT=3', 'SHOAL_NODE_ID=12D3KooWNodeIdentifierXYZ123456'],
      WorkingDir: '/work',
      User: '1000:1000',
      Hostname: 'box',
      StopSignal: 'SIGINT',
      StopTimeout: 3,
    });
  });

  it('containerCreateOptions() sets limits, ports, mounts and host settings; Docker never restarts it', () => {
    expect(options.HostConfig).toMatchObject({
      RestartPolicy: { Name: 'no' },
      NanoCpus: 1_500_000_000,
      Memory: 256 * 1024 * 1024,
      MemoryReservation: 128 * 1024 * 1024,
      PidsLimit: 100,
      Init: true,
      ReadonlyRootfs: true,
      CapAdd: ['NET_ADMIN'],
      CapDrop: ['ALL'],
      Dns: ['10.0.0.2'],
      ExtraHosts: ['db:10.0.0.5'],
      Sysctls: { 'net.core.somaxconn': '1024' },
      ShmSize: 64 * 1024 * 1024,
      PortBindings: {
        '80/tcp': [{ HostIp: '127.0.0.1', HostPort: '8080' }],
        '9000/udp': [{ HostIp: '', HostPort: '' }],
      },
    });
    expect(options.ExposedPorts).toEqual({ '80/tcp': {}, '9000/udp': {} });
    expect(options.HostConfig!.Mounts).toEqual(
      expect.arrayContaining([
        { Type: 'volume', Source: 'app_data', Target: '/data', ReadOnly: true },
        { Type: 'bind', Source: '/srv/cfg', Target: '/cfg', ReadOnly: false },
        { Type: 'tmpfs', Target: '/scratch', ReadOnly: false, TmpfsOptions: { SizeBytes: 1048576 } },
      ]),
    );
  });

  it('containerCreateOptions() translates the healthcheck to nanoseconds', () => {
    expect(options.Healthcheck).toEqual({
      Test: ['CMD', 'true'],
      Interval: 2e9,
      Timeout: 1e9,
      Retries: 3,
      StartPeriod: 5e9,
      StartInterval: 5e9, // Compose's default start_interval
    });
  });

  it('containerCreateOptions() turns a disabled healthcheck into NONE', () => {
    const off = serviceFromCompose('image: x\nhealthcheck: { disable: true }');
    expect(containerCreateOptions(NODE, assignment(task({ id: 't' }), off)).Healthcheck).toEqual({ Test: ['NONE'] });
  });

  it('containerCreateOptions() requests the assigned GPUs and makes only them visible', () => {
    const gpuTask = task({ id: 't', gpus: ['GPU-aaa', 'GPU-bbb'] });
    const o = containerCreateOptions(NODE, assignment(gpuTask, serviceFromCompose('image: x')));
    expect(o.HostConfig!.DeviceRequests).toEqual([
      { Driver: 'nvidia', DeviceIDs: ['GPU-aaa', 'GPU-bbb'], Capabilities: [['gpu']] },
    ]);
    expect(o.Env).toEqual(
      expect.arrayContaining(['NVIDIA_VISIBLE_DEVICES=GPU-aaa,GPU-bbb', 'CUDA_VISIBLE_DEVICES=GPU-aaa,GPU-bbb']),
    );
  });

  it('containerCreateOptions() joins the stack default network with the service name as an alias', () => {
    const o = containerCreateOptions(NODE, assignment(task({ id: 't' }), serviceFromCompose('image: x')));
    const net = `app_default_${shortNodeId(NODE)}`;
    expect(o.HostConfig!.NetworkMode).toBe(net);
    expect(o.NetworkingConfig).toEqual({ EndpointsConfig: { [net]: { Aliases: ['web'] } } });
  });

  it('containerCreateOptions() joins every named stack network, with their aliases', () => {
    const spec = serviceFromCompose(
      'image: x\nnetworks:\n  back: { aliases: [db] }\n  front: {}',
      'web',
      'app',
      'networks:\n  back: {}\n  front: {}\n',
    );
    const o = containerCreateOptions(NODE, assignment(task({ id: 't' }), spec));
    const suffix = shortNodeId(NODE);
    expect(o.HostConfig!.NetworkMode).toBe(`app_back_${suffix}`);
    expect(o.NetworkingConfig).toEqual({
      EndpointsConfig: {
        [`app_back_${suffix}`]: { Aliases: ['web', 'db'] },
        [`app_front_${suffix}`]: { Aliases: ['web'] },
      },
    });
  });

  it.each([['host'], ['none']])(
    'containerCreateOptions() with network_mode: %s uses that network mode and joins no stack network',
    (mode) => {
      const o = containerCreateOptions(
        NODE,
        assignment(task({ id: 't' }), serviceFromCompose(`image: x\nnetwork_mode: ${mode}\nports: ["8080:80"]`)),
      );
      expect(o.HostConfig!.NetworkMode).toBe(mode);
      expect(o.NetworkingConfig).toBeUndefined();
      expect(o.HostConfig!.PortBindings).toEqual({});
      expect(o.ExposedPorts).toEqual({});
      expect(
        stackNetworks(NODE, assignment(task({ id: 't' }), serviceFromCompose(`image: x\nnetwork_mode: ${mode}`))),
      ).toEqual([]);
    },
  );

  it('containerCreateOptions() sets the engine runtime from runtime:', () => {
    const o = containerCreateOptions(
      NODE,
      assignment(task({ id: 't' }), serviceFromCompose('image: x\nruntime: nvidia')),
    );
    expect(o.HostConfig!.Runtime).toBe('nvidia');
  });

  it('containerCreateOptions() leaves out what the spec does not set', () => {
    const o = containerCreateOptions(NODE, assignment(task({ id: 't' }), serviceFromCompose('image: x')));
    expect(o.Cmd).toBeUndefined();
    expect(o.Entrypoint).toBeUndefined();
    expect(o.Healthcheck).toBeUndefined();
    expect(o.HostConfig!.NanoCpus).toBeUndefined();
    expect(o.HostConfig!.Memory).toBeUndefined();
    expect(o.HostConfig!.DeviceRequests).toBeUndefined();
    expect(o.HostConfig!.Runtime).toBeUndefined();
  });
});

describe('taskEnvironment()', () => {
  it('taskEnvironment() names the job and array index of a batch unit, also under the Slurm names', () => {
    const env = taskEnvironment(
      'node-1',
      task({ id: 't9', slot: 4, job: { jobId: '17', index: 4, attempt: 1, requeues: 2 } }),
    );
    expect(env).toMatchObject({
      SHOAL_JOB_ID: '17',
      SHOAL_ARRAY_INDEX: '4',
      SLURM_JOB_ID: '17',
      SLURM_ARRAY_TASK_ID: '4',
      SLURM_RESTART_COUNT: '3',
    });
  });

  it('taskEnvironment() gives a task its exclusive GPUs and a service task no job variables', () => {
    const env = taskEnvironment('node-1', task({ id: 't1', gpus: ['GPU-a', 'GPU-b'] }));
    expect(env.CUDA_VISIBLE_DEVICES).toBe('GPU-a,GPU-b');
    expect(env.NVIDIA_VISIBLE_DEVICES).toBe('GPU-a,GPU-b');
    expect(env.SHOAL_JOB_ID).toBeUndefined();
  });
});

describe('containerCreateOptions() with the service mesh', () => {
  const mesh = { resolvConf: '/var/lib/shoal/mesh/resolv.conf' };
  const spec = serviceFromCompose(
    'image: shoal-test/busybox:latest\nports: ["8080:80", { target: 81, published: 9081, mode: host }]',
  );

  it('publishes only host-mode ports (the mesh listens on ingress ones) and mounts the mesh resolv.conf', () => {
    const o = containerCreateOptions(NODE, assignment(task({ id: 't1' }), spec), mesh);
    expect(o.HostConfig!.PortBindings).toEqual({ '81/tcp': [{ HostIp: '', HostPort: '9081' }] });
    expect(Object.keys(o.ExposedPorts!).sort()).toEqual(['80/tcp', '81/tcp']);
    expect(o.HostConfig!.Mounts).toContainEqual({
      Type: 'bind',
      Source: mesh.resolvConf,
      Target: '/etc/resolv.conf',
      ReadOnly: true,
    });
  });

  it('publishes ingress ports on the task’s node, as before, without the mesh', () => {
    const o = containerCreateOptions(NODE, assignment(task({ id: 't1' }), spec));
    expect(Object.keys(o.HostConfig!.PortBindings!).sort()).toEqual(['80/tcp', '81/tcp']);
    expect(o.HostConfig!.Mounts).toEqual([]);
  });

  it.each([
    ['dns:', 'dns: [10.0.0.2]'],
    ['its own resolv.conf mount', 'volumes: ["/etc/my-resolv.conf:/etc/resolv.conf:ro"]'],
    ['network_mode: host', 'network_mode: host'],
  ])('leaves the resolver alone for a service with %s', (_what, line) => {
    const own = serviceFromCompose(`image: shoal-test/busybox:latest\n${line}`);
    const o = containerCreateOptions(NODE, assignment(task({ id: 't1' }), own), mesh);
    expect(o.HostConfig!.Mounts).not.toContainEqual(expect.objectContaining({ Source: mesh.resolvConf }));
  });
});
