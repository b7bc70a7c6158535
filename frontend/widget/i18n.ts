// The widget's own words, in the two languages of Puerto Rico's dealers' visitors: one
// message catalog a language, in ./locales. A catalog's {placeholders} are filled here.
import en from "./locales/en.json";
import es from "./locales/es.json";

export type Lang = "es" | "en";

/** A catalog: tsc fails when the two do not have the same keys. */
type Catalog = typeof es;
const CATALOGS: Record<Lang, Catalog> = { es: es satisfies typeof en, en };

export type Texts = Omit<Catalog, "queue" | "joined" | "chattingWith" | "stars"> & {
  queue(position: number, minutes: number): string;
  joined(name: string): string;
  chattingWith(name: string): string;
  stars(n: number): string;
};

/** `template` with each {key} replaced by values[key]. */
function fill(template: string, values: Record<string, string | number>): string {
  return template.replace(/\{(\w+)\}/g, (_, key: string) => String(values[key]));
}

/** The widget's words in `lang`. */
export function texts(lang: Lang): Texts {
  const c = CATALOGS[lang];
  return {
    ...c,
    queue: (position, minutes) => fill(c.queue, { position, minutes }),
    joined: (name) => fill(c.joined, { name }),
    chattingWith: (name) => fill(c.chattingWith, { name }),
    stars: (n) => fill(c.stars, { n }),
  };
}

/** The browser's language if the widget speaks it (es-PR -> es), else English. */
export function browserLang(languages: readonly string[]): Lang {
  for (const tag of languages) {
    const primary = tag.toLowerCase().split("-")[0];
    if (primary === "es" || primary === "en") return primary;
  }
  return "en";
}
