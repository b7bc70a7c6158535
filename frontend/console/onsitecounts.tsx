// The supervisor's counts of visitors on the site now (PROTOCOL 1.2, Visitors on site, with
// `counts`): on the site, in a chat, invited during this visit, with a lead. Live: the
// counts come with the `visitors` diffs of the list this screen watches (at most one a
// second). A plan without the list (basic) shows nothing here.

import { useEffect, useState } from "preact/hooks";
import type { Floor, FloorState } from "./floor";
import { useT } from "./ui";

export interface OnSiteCounts {
  in_chat: number;
  invited: number;
  lead: number;
}

interface Counted {
  total: number;
  counts: OnSiteCounts;
}

export function OnSiteCountTiles(props: { floor: Floor; state: FloorState }) {
  const t = useT();
  const { floor, state } = props;
  const [now, setNow] = useState<Counted | null>(null);

  useEffect(() => {
    if (!state.connected) return;
    let open = true;
    const off = floor.listen<Counted>("visitors", (diff) => setNow({ total: diff.total, counts: diff.counts }));
    void floor.call("watch_visitors", { watching: true }).then((ack) => {
      if (open && ack.ok) setNow({ total: ack.total as number, counts: ack.counts as OnSiteCounts });
    });
    return () => {
      open = false;
      off();
      void floor.call("watch_visitors", { watching: false });
    };
  }, [floor, state.connected]);

  if (!now) return null;
  const tile = (key: string, label: string, value: number) => (
    <div class="tile" data-tile={key}>
      <span class="label">{label}</span>
      <strong class="value">{String(value)}</strong>
    </div>
  );
  return (
    <section class="onsite-counts" aria-label={t("onsite_counts")} data-testid="onsite-counts">
      <h2>{t("onsite_counts")}</h2>
      <div class="tiles">
        {tile("onsite_total", t("onsite_count_total"), now.total)}
        {tile("onsite_in_chat", t("onsite_count_in_chat"), now.counts.in_chat)}
        {tile("onsite_invited", t("onsite_count_invited"), now.counts.invited)}
        {tile("onsite_lead", t("onsite_count_lead"), now.counts.lead)}
      </div>
    </section>
  );
}
