// The world a lab starts with, as the session builds it.
import type { WorldSpec } from '../session/world-spec.js';
import type { Lab } from './format.js';

export function worldSpecOf(lab: Lab): WorldSpec {
  return {
    nodes: lab.nodeNames,
    loopback: lab.world.loopback,
    loopbacks: lab.world.loopbacks,
    runtime: lab.world.runtime,
    runtimes: lab.world.runtimes,
    configs: lab.configs,
    pods: lab.world.pods,
    prepare: lab.world.prepare,
    prepareTimeLimitS: lab.world.timeLimits.prepare,
    ...(lab.world.controlPlane ? { controlPlane: true } : {}),
  };
}
