// The engine's side of the contract: one dispatcher both hosts use. It checks every message against
// the contract before anything runs, and every result before it leaves.
import {
  ApiError,
  isMethod,
  parseParams,
  parseResult,
  RequestMessage,
  type PodnetApi,
  type ResponseMessage,
  describeIssues,
} from './contract.js';

export async function dispatch(api: PodnetApi, raw: unknown): Promise<ResponseMessage> {
  const msg = RequestMessage.safeParse(raw);
  if (!msg.success) {
    const id = typeof (raw as { id?: unknown })?.id === 'number' ? (raw as { id: number }).id : -1;
    return { id, error: { code: 'bad-request', message: `not a request: ${describeIssues(msg.error)}` } };
  }
  const { id, method, params } = msg.data;
  try {
    if (!isMethod(method)) throw new ApiError('unknown-method', `unknown method "${method}"`);
    const p = parseParams(method, params);
    const result = await (api[method] as (p: unknown) => Promise<unknown>)(p);
    return { id, result: parseResult(method, result) };
  } catch (e) {
    if (e instanceof ApiError) return { id, error: { code: e.code, message: e.message } };
    return { id, error: { code: 'failed', message: (e as Error)?.message ?? String(e) } };
  }
}
