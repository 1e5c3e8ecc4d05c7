/** SIGTERM / SIGINT for the command line: the first one starts a graceful stop, a second one means "now". */

/** Resolves with the first SIGTERM / SIGINT; later ones call `again`. */
export class Signals {
  private received: NodeJS.Signals | null = null;
  private wake: ((signal: NodeJS.Signals) => void) | null = null;
  again: (() => void) | null = null;
  private readonly listener = (signal: NodeJS.Signals): void => {
    if (this.received !== null) {
      this.again?.();
      return;
    }
    this.received = signal;
    this.wake?.(signal);
  };

  constructor() {
    process.on('SIGTERM', this.listener);
    process.on('SIGINT', this.listener);
  }

  next(): Promise<NodeJS.Signals> {
    if (this.received !== null) return Promise.resolve(this.received);
    return new Promise((resolve) => (this.wake = resolve));
  }

  dispose(): void {
    process.off('SIGTERM', this.listener);
    process.off('SIGINT', this.listener);
  }
}
