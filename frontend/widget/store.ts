// What survives navigation and reloads, per site: the visitor, the chat, the panel's state.
export class Memory {
  constructor(private readonly prefix: string) {}

  get(key: string): string | null {
    try {
      return window.localStorage.getItem(this.prefix + key);
    } catch {
      return null; // storage blocked (private mode, sandboxed iframe): forget gracefully
    }
  }

  set(key: string, value: string | null): void {
    try {
      if (value === null) window.localStorage.removeItem(this.prefix + key);
      else window.localStorage.setItem(this.prefix + key, value);
    } catch {
      /* as above */
    }
  }
}
