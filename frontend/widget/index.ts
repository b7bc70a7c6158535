// The visitor widget: built by the widget issue. Placeholder so the build has an entry.
export {};
