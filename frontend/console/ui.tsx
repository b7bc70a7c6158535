// Small shared pieces: the UI language, a ticking clock, a modal dialog, a field.

import { createContext, type ComponentChildren } from "preact";
import { useContext, useEffect, useReducer, useState } from "preact/hooks";
import { translate, type TextKey, type UiLang } from "./i18n";
import type { Floor, FloorState } from "./floor";

export const LangContext = createContext<UiLang>("es");

export function useT(): (key: TextKey) => string {
  const lang = useContext(LangContext);
  return (key: TextKey) => translate(lang, key);
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
