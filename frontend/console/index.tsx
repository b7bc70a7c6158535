// The agent console: built by the console issue. Placeholder so the build has an entry.
export {};
