// The trace: every step of the pod network lifecycle as an event with component, name, times,
// inputs, outputs, error and the source reference the seeds give for it.
import { EventEmitter } from 'node:events';
import type { SourceRef } from './sources.js';

export type Component = 'kubelet' | 'cri' | 'containerd' | 'cni' | 'kernel';

export interface TraceEvent {
  id: number;
  parent?: number;
  component: Component;
  name: string;
  pod?: string;
  node?: string;
  /** Milliseconds since the trace began. */
  start: number;
  end?: number;
  inputs?: Record<string, unknown>;
  outputs?: Record<string, unknown>;
  error?: string;
  /** A cleanup of an earlier step after a failure (containerd's deferred undo). */
  undo?: boolean;
  source?: SourceRef;
}

export interface StepOptions {
  parent?: number;
  pod?: string;
  node?: string;
  inputs?: Record<string, unknown>;
  source?: SourceRef;
  undo?: boolean;
}

/** Where a step happens: for which pod, on which node, under which parent step. */
export type StepPlace = Pick<StepOptions, 'pod' | 'node' | 'parent'>;
/** What one step of a place says of itself: its source reference and inputs. */
export type StepSpec = Pick<StepOptions, 'source' | 'inputs' | 'undo'>;
/** A traced step in a place given by Trace.under. */
export type StepIn = <T>(
  component: Component,
  name: string,
  spec: StepSpec,
  fn: (h: StepHandle) => T | Promise<T>,
) => Promise<T>;

/** A step about to begin, as a step gate sees it. */
export interface PendingStep {
  component: Component;
  name: string;
  parent?: number;
  pod?: string;
  node?: string;
}

/** Awaited before each traced step begins (step-through); none by default. */
export type StepGate = (next: PendingStep) => Promise<void>;

/** Handle on a running step: add outputs, or record children under it. */
export interface StepHandle {
  readonly id: number;
  output(o: Record<string, unknown>): void;
}

export class Trace extends EventEmitter<{ event: [TraceEvent]; update: [TraceEvent] }> {
  readonly events: TraceEvent[] = [];
  private readonly t0 = performance.now();
  private nextId = 1;
  /** Step-through: awaited before each step() begins. Unset, a step costs nothing more. */
  gate: StepGate | undefined;

  now(): number {
    return Math.round((performance.now() - this.t0) * 1000) / 1000;
  }

  begin(component: Component, name: string, o: StepOptions = {}): TraceEvent {
    const ev: TraceEvent = { id: this.nextId++, component, name, start: this.now(), ...o };
    this.events.push(ev);
    this.emit('event', ev);
    return ev;
  }

  finish(ev: TraceEvent, outputs?: Record<string, unknown>, error?: unknown): void {
    ev.end = this.now();
    if (outputs) ev.outputs = { ...ev.outputs, ...outputs };
    if (error !== undefined)
      ev.error = error instanceof Error ? error.message : typeof error === 'string' ? error : JSON.stringify(error);
    this.emit('update', ev);
  }

  /**
   * Steps in one place (a pod on a node, under a parent step) share their options: the function this
   * returns takes only what differs, so a runtime function reads as the seeds' list of steps.
   */
  under(place: StepPlace): StepIn {
    return (component, name, spec, fn) => this.step(component, name, { ...place, ...spec }, fn);
  }

  /** Runs fn as one traced step; its error is recorded and rethrown. */
  async step<T>(
    component: Component,
    name: string,
    o: StepOptions,
    // a step without I/O may answer at once; a throw is recorded either way (awaited in the try)
    fn: (h: StepHandle) => T | Promise<T>,
  ): Promise<T> {
    if (this.gate)
      await this.gate({
        component,
        name,
        ...(o.parent !== undefined ? { parent: o.parent } : {}),
        ...(o.pod ? { pod: o.pod } : {}),
        ...(o.node ? { node: o.node } : {}),
      });
    const ev = this.begin(component, name, o);
    const handle: StepHandle = { id: ev.id, output: (out) => (ev.outputs = { ...ev.outputs, ...out }) };
    try {
      const r = await fn(handle);
      this.finish(ev);
      return r;
    } catch (e) {
      this.finish(ev, undefined, e);
      throw e;
    }
  }

  /** A step that already happened elsewhere (a plugin exec timed by the executor). */
  record(
    component: Component,
    name: string,
    startMs: number,
    endMs: number,
    o: StepOptions & { outputs?: Record<string, unknown>; error?: string },
  ): TraceEvent {
    const base = performance.timeOrigin + this.t0;
    const ev: TraceEvent = {
      id: this.nextId++,
      component,
      name,
      start: Math.round((startMs - base) * 1000) / 1000,
      end: Math.round((endMs - base) * 1000) / 1000,
      ...o,
    };
    this.events.push(ev);
    this.emit('event', ev);
    return ev;
  }

  duration(ev: TraceEvent): number {
    return (ev.end ?? this.now()) - ev.start;
  }
}
