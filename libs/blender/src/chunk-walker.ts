// Incremental parser for formats built from small headers followed by payloads we only skip
// (.blend blocks, zstd frames). It never holds more than one header in memory, so a multi-GB
// scene can be checked as a stream.

export interface WalkNext {
  /** payload bytes to skip before the next header */
  skip: number;
  /** the next header to read, or null when the format says the stream is complete */
  next: WalkStep | null;
}

export interface WalkStep {
  /** header size in bytes (> 0) */
  readonly headerBytes: number;
  /** `offset` is where this header starts in the stream; may throw to reject the stream */
  parse(header: Buffer, offset: number): WalkNext;
}

export interface WalkState {
  /** current step, null once the format declared the stream complete */
  step: WalkStep | null;
  /** bytes of the current header received so far */
  pending: Buffer;
  /** payload bytes still expected before the next header */
  skipRemaining: number;
  /** where the current header starts (valid while `pending` is non-empty) */
  stepOffset: number;
  /** bytes consumed in total */
  offset: number;
  /** bytes received after the format declared the stream complete */
  trailingBytes: number;
}

export class ChunkWalker {
  private step: WalkStep | null;
  private pending: Buffer[] = [];
  private pendingLength = 0;
  private skipRemaining = 0;
  private stepOffset = 0;
  private offset = 0;
  private trailingBytes = 0;

  constructor(first: WalkStep) {
    this.step = first;
  }

  push(chunk: Buffer): void {
    let pos = 0;
    while (pos < chunk.length) {
      const available = chunk.length - pos;
      if (this.skipRemaining > 0) {
        const n = Math.min(this.skipRemaining, available);
        this.skipRemaining -= n;
        pos += n;
        this.offset += n;
        continue;
      }
      if (this.step === null) {
        this.trailingBytes += available;
        this.offset += available;
        return;
      }
      if (this.pendingLength === 0) this.stepOffset = this.offset;
      const n = Math.min(this.step.headerBytes - this.pendingLength, available);
      this.pending.push(chunk.subarray(pos, pos + n));
      this.pendingLength += n;
      pos += n;
      this.offset += n;
      if (this.pendingLength === this.step.headerBytes) {
        const header = Buffer.concat(this.pending, this.pendingLength);
        this.pending = [];
        this.pendingLength = 0;
        const { skip, next } = this.step.parse(header, this.stepOffset);
        this.step = next;
        this.skipRemaining = skip;
      }
    }
  }

  get state(): WalkState {
    return {
      step: this.step,
      pending: Buffer.concat(this.pending, this.pendingLength),
      skipRemaining: this.skipRemaining,
      stepOffset: this.stepOffset,
      offset: this.offset,
      trailingBytes: this.trailingBytes,
    };
  }
}
