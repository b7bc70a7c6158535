// The widget's own words, in the two languages of Puerto Rico's dealers' visitors: one
// message catalog a language, in ./locales. A catalog's {placeholders} are filled here.
import en from "./locales/en.json";
import es from "./locales/es.json";

export type Lang = "es" | "en";

/** A catalog: tsc fails when the two do not have the same keys. */
type Catalog = typeof es;
const CATALOGS: Record<Lang, Catalog> = { es: es satisfies typeof en, en };

/** The catalog's templates that take values, as functions. */
type Filled = "queue" | "joined" | "chattingWith" | "stars" | "opensAt" | "botIntroClosed" | "offlineThanksOpening";

export type Texts = Omit<Catalog, Filled | "when" | "whenOne"> & {
  queue(position: number, minutes: number): string;
  joined(name: string): string;
  chattingWith(name: string): string;
  stars(n: number): string;
  opensAt(when: string): string;
  botIntroClosed(when: string): string;
  offlineThanksOpening(when: string): string;
  /** An instant as the dealer's clock shows it: "el lunes 11 de enero a las 9:00 a. m.". */
  when(at: Date, timeZone: string | undefined): string;
};

/** Puerto Rico's way of writing dates and times in each language (12-hour clock). */
const LOCALES: Record<Lang, string> = { es: "es-PR", en: "en-US" };

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
    opensAt: (when) => sentence(c.opensAt, when),
    botIntroClosed: (when) => sentence(c.botIntroClosed, when),
    offlineThanksOpening: (when) => sentence(c.offlineThanksOpening, when),
    when: (at, timeZone) => when(lang, at, timeZone),
  };
}

/** A sentence ending in a time: "...a las 9:00 a. m." takes no second full stop. */
function sentence(template: string, when: string): string {
  return fill(template, { when }).replace(/\.\.$/, ".");
}

/** `at` in the dealer's time zone, in the words of `lang` ("a la 1:00", "a las 9:00"). */
function when(lang: Lang, at: Date, timeZone: string | undefined): string {
  const c = CATALOGS[lang];
  const parts = (options: Intl.DateTimeFormatOptions) =>
    new Intl.DateTimeFormat(LOCALES[lang], { timeZone, ...options }).formatToParts(at);
  const date = parts({ weekday: "long", day: "numeric", month: "long" });
  const time = parts({ hour: "numeric", minute: "2-digit" });
  const part = (type: string) => date.find((p) => p.type === type)?.value || "";
  const hour = time.find((p) => p.type === "hour")?.value;
  return fill(hour === "1" ? c.whenOne : c.when, {
    weekday: part("weekday"),
    day: part("day"),
    month: part("month"),
    time: time.map((p) => p.value).join(""),
  });
}

/** The browser's language if the widget speaks it (es-PR -> es), else English. */
export function browserLang(languages: readonly string[]): Lang {
  for (const tag of languages) {
    const primary = tag.toLowerCase().split("-")[0];
    if (primary === "es" || primary === "en") return primary;
  }
  return "en";
}

/** What to tell a visitor when the hub refused what they sent: the widget's own words for a
 * refusal that needs no detail (too fast; the hub is busy), else the hub's words, which say
 * what to fix. */
export function refusal(error: { code?: string; message?: string } | undefined, t: Texts): string {
  if (error?.code === "rate_limited") return t.slowDown;
  if (error?.code === "unavailable" || !error?.message) return t.error;
  return error.message;
}
