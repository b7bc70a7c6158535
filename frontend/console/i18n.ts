// The console's own words, in Spanish and English: one message catalog a language, in
// ./locales. Chat text is never translated here.

import en from "./locales/en.json";
import es from "./locales/es.json";

export type UiLang = "es" | "en";

/** The keys of the Spanish catalog; tsc fails when the English one lacks one, or has another. */
export type TextKey = keyof typeof es;

const CATALOGS: Record<UiLang, Record<TextKey, string>> = {
  es: es satisfies Record<keyof typeof en, string>,
  en,
};

export function translate(lang: UiLang, key: TextKey): string {
  return CATALOGS[lang][key];
}

export function guessLang(stored: string | null, browser: string): UiLang {
  if (stored === "es" || stored === "en") return stored;
  return browser.toLowerCase().startsWith("en") ? "en" : "es";
}
