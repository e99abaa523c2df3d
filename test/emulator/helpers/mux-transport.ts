/**
 * The client side of mux port forwarding for tests: a Duplex over a RawClient's session bytes, to
 * run an smux client session (src/mux) against the emulator's agent.
 */
import { Duplex } from "node:stream";
import type { RawClient } from "./raw-client.js";

export class ClientTransport extends Duplex {
  readonly #client: RawClient;

  constructor(client: RawClient) {
    super({ allowHalfOpen: true });
    this.#client = client;
    client.on("data", (data: Buffer) => this.push(data));
  }

  override _read(): void {}

  override _write(chunk: Buffer, _encoding: BufferEncoding, callback: (error?: Error | null) => void): void {
    this.#client.write(chunk);
    callback();
  }
}
