// Small shared pieces: the UI language, a ticking clock, a modal dialog, and the parts of
// a form (a labelled field, a checkbox, the row of buttons that ends it).

import { createContext, type ComponentChildren } from "preact";
import { useContext, useEffect, useReducer, useState } from "preact/hooks";
import { translate, type TextKey, type UiLang } from "./i18n";
import type { Floor, FloorState } from "./floor";
import { phoneText } from "./words";

export const LangContext = createContext<UiLang>("es");

export function useT(): (key: TextKey) => string {
  const lang = useContext(LangContext);
  return (key: TextKey) => translate(lang, key);
}

/** The console's language, for the helpers that turn codes into words (./words). */
export function useLang(): UiLang {
  return useContext(LangContext);
}

export function useNow(everyMs = 1000): number {
  const [now, setNow] = useState(Date.now());
  useEffect(() => {
    const timer = setInterval(() => setNow(Date.now()), everyMs);
    return () => clearInterval(timer);
  }, [everyMs]);
  return now;
}

export function useFloor(floor: Floor): FloorState {
  const [, redraw] = useReducer((n: number, _action: null) => n + 1, 0);
  useEffect(() => {
    const off = floor.subscribe(() => redraw(null));
    return () => {
      off();
    };
  }, [floor]);
  return floor.state;
}

export function Dialog(props: {
  title: string;
  onClose: () => void;
  children: ComponentChildren;
  testId?: string;
}) {
  useEffect(() => {
    const onKey = (e: KeyboardEvent) => {
      if (e.key === "Escape") props.onClose();
    };
    window.addEventListener("keydown", onKey);
    return () => window.removeEventListener("keydown", onKey);
  }, [props.onClose]);
  return (
    <div class="backdrop" onClick={(e) => e.target === e.currentTarget && props.onClose()}>
      <div class="dialog" role="dialog" aria-modal="true" aria-label={props.title} data-testid={props.testId}>
        <header>
          <h2>{props.title}</h2>
          <button type="button" class="icon" aria-label="×" onClick={props.onClose}>
            ×
          </button>
        </header>
        {props.children}
      </div>
    </div>
  );
}

export function ErrorLine(props: { message: string | null }) {
  return props.message ? (
    <p class="error" role="alert">
      {props.message}
    </p>
  ) : null;
}

/** A labelled input, or with `area` a textarea, that hands what is typed to `onValue`. */
export function Field(props: {
  label: ComponentChildren;
  name: string;
  value: string;
  onValue: (value: string) => void;
  type?: string;
  dir?: "auto";
  placeholder?: string;
  required?: boolean;
  area?: boolean;
  class?: string;
}) {
  const { label, onValue, area, class: labelClass, ...attributes } = props;
  const onInput = (e: Event) => onValue((e.target as HTMLInputElement | HTMLTextAreaElement).value);
  return (
    <label class={labelClass}>
      {label}
      {area ? <textarea {...attributes} onInput={onInput} /> : <input {...attributes} onInput={onInput} />}
    </label>
  );
}

/** A checkbox with its label after it. */
export function Check(props: { label: string; checked: boolean; onChecked: (checked: boolean) => void; name?: string; span?: boolean }) {
  return (
    <label class={props.span ? "check span" : "check"}>
      <input type="checkbox" name={props.name} checked={props.checked} onChange={(e) => props.onChecked((e.target as HTMLInputElement).checked)} />
      {props.label}
    </label>
  );
}

/** The row that ends a form: its children (a status), then the submit button. */
export function SubmitRow(props: { label: string; children?: ComponentChildren }) {
  return (
    <div class="span buttons">
      {props.children}
      <button type="submit" class="primary">
        {props.label}
      </button>
    </div>
  );
}

/** A phone as a dealer writes it ("(787) 555-0123" for +1), never broken across lines. */
export function Phone(props: { value: string | null | undefined }) {
  return props.value ? <span class="phone">{phoneText(props.value)}</span> : <>—</>;
}

/** An e-mail kept whole: it does not wrap mid-word; a very long one ends in "…" (the title
 * has it whole). */
export function Email(props: { value: string | null | undefined }) {
  return props.value ? (
    <span class="email" title={props.value}>
      {props.value}
    </span>
  ) : (
    <>—</>
  );
}

/** A phone and an e-mail, those given, side by side: "(787) 555-0123 · ana@example.com". */
export function Contact(props: { phone?: string | null; email?: string | null }) {
  return (
    <>
      {props.phone ? <Phone value={props.phone} /> : null}
      {props.phone && props.email ? " · " : null}
      {props.email ? <Email value={props.email} /> : null}
    </>
  );
}
