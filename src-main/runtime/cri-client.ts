// The kubelet's side of the CRI: RuntimeService and ImageService over gRPC to the real containerd's
// socket, with the API definition Debian ships (k8s.io/cri-api v1) loaded at run time, not copied.
import * as grpc from '@grpc/grpc-js';
import * as protoLoader from '@grpc/proto-loader';

/** The kubelet's --runtime-request-timeout default (2 minutes); calls here are bounded more tightly. */
export const CRI_TIMEOUT_MS = 30_000;

export class CriCallError extends Error {
  constructor(
    readonly method: string,
    readonly code: number,
    readonly details: string,
  ) {
    // the text the kubelet logs and `kubectl describe` shows: "rpc error: code = Unknown desc = …"
    super(`rpc error: code = ${grpcCodeName(code)} desc = ${details}`);
    this.name = 'CriCallError';
  }
}

const grpcCodeName = (code: number) => {
  const name = (grpc.status as unknown as Record<number, string>)[code] ?? String(code);
  // Go's codes.Code String(): "Unknown", "DeadlineExceeded", …
  return name
    .toLowerCase()
    .split('_')
    .map((w) => w[0]!.toUpperCase() + w.slice(1))
    .join('');
};

type Method = (
  req: object,
  meta: grpc.Metadata,
  opts: grpc.CallOptions,
  cb: (e: grpc.ServiceError | null, r: unknown) => void,
) => void;

const definitions = new Map<string, grpc.GrpcObject>();

export class CriClient {
  private readonly runtime: grpc.Client & Record<string, Method>;
  private readonly image: grpc.Client & Record<string, Method>;

  constructor(
    proto: string,
    /** An engine path to the node's containerd.sock. */
    readonly socket: string,
  ) {
    let pkg = definitions.get(proto);
    if (!pkg) {
      const def = protoLoader.loadSync(proto, {
        keepCase: false,
        longs: Number,
        enums: String,
        defaults: false,
        oneofs: true,
      });
      pkg = grpc.loadPackageDefinition(def);
      definitions.set(proto, pkg);
    }
    const v1 = (pkg.runtime as grpc.GrpcObject).v1 as grpc.GrpcObject;
    const Runtime = v1.RuntimeService as grpc.ServiceClientConstructor;
    const Image = v1.ImageService as grpc.ServiceClientConstructor;
    const target = `unix://${socket}`;
    // one connection per node, as the kubelet keeps one to its runtime
    const creds = grpc.credentials.createInsecure();
    const opts = { 'grpc.max_receive_message_length': 16 * 1024 * 1024 };
    this.runtime = new Runtime(target, creds, opts) as never;
    this.image = new Image(target, creds, { ...opts, channelOverride: this.runtime.getChannel() }) as never;
  }

  /** One CRI call (RuntimeService, or ImageService for the image methods); rejects with CriCallError. */
  call<T>(method: string, request: object, timeoutMs = CRI_TIMEOUT_MS): Promise<T> {
    const client = /Image/.test(method) ? this.image : this.runtime;
    const fn = client[method];
    if (typeof fn !== 'function') return Promise.reject(new Error(`the CRI has no method ${method}`));
    return new Promise((resolve, reject) => {
      fn.call(client, request, new grpc.Metadata(), { deadline: Date.now() + timeoutMs }, (e, r) => {
        if (e) reject(new CriCallError(method, e.code, e.details));
        else resolve(r as T);
      });
    });
  }

  close(): void {
    this.runtime.close();
    this.image.close();
  }
}
