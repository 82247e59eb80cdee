// A kubelet block's line: `syncPod NAME NODE [{fields}]` or `killPod NAME`, read the same way by the
// linter and the runner (the fields are a YAML flow mapping of a lab.yaml pod's fields).
import { parse } from 'yaml';
import { KUBELET_LINE, KubeletPodFields } from './format.js';

export type KubeletLine =
  | { kind: 'syncPod'; name: string; node: string; fields: KubeletPodFields }
  | { kind: 'killPod'; name: string }
  /** name: the pod an otherwise valid syncPod line names, so the rest of the lab can still refer to it. */
  | { kind: 'invalid'; message: string; name?: string };

export function parseKubeletLine(line: string): KubeletLine {
  const l = line.trim();
  const m = KUBELET_LINE.exec(l);
  if (!m)
    return {
      kind: 'invalid',
      message: `a kubelet line is "syncPod NAME NODE", "syncPod NAME NODE {FIELDS}" or "killPod NAME", not "${l}"`,
    };
  if (m[4]) return { kind: 'killPod', name: m[4] };
  let fields: KubeletPodFields = {};
  if (m[3]) {
    let data: unknown;
    try {
      data = parse(m[3]);
    } catch (e) {
      return {
        kind: 'invalid',
        name: m[1]!,
        message: `the pod's fields after "syncPod ${m[1]} ${m[2]}" are not YAML: ${(e as Error).message.split('\n')[0]}`,
      };
    }
    const r = KubeletPodFields.safeParse(data);
    if (!r.success) {
      const i = r.error.issues[0]!;
      const where = i.path.length ? `${i.path.join('.')}: ` : '';
      const what = i.code === 'unrecognized_keys' ? `unknown field "${i.keys.join('", "')}"` : i.message;
      return { kind: 'invalid', name: m[1]!, message: `pod ${m[1]}: ${where}${what}` };
    }
    fields = r.data;
  }
  return { kind: 'syncPod', name: m[1]!, node: m[2]!, fields };
}
