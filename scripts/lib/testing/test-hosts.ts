// Host facts for the bootstrap's tests: a bare Debian bookworm machine as root (Docker client only, no engine,
// no Compose), the machine this project starts on.
import type { HostFacts } from '../host/docker-plan.ts';

export const bareBookworm: HostFacts = {
  platform: 'linux',
  osId: 'debian',
  osCodename: 'bookworm',
  isRoot: true,
  hasApt: true,
  hasSystemd: false,
  dockerClient: '28.2.2',
  engine: null,
  engineError:
    'Cannot connect to the Docker daemon at unix:///var/run/docker.sock. Is the docker daemon running?',
  compose: null,
  dockerdInstalled: false,
};
