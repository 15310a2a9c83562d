"use client";
import { usePathname, useRouter, useSearchParams } from "next/navigation";
import { useState } from "react";

/**
 * The pieces the anomaly queue and the incident list share: filters, sort and page in the URL
 * (every view is a deep link), a selection that can widen to "all matching", facet buttons,
 * sortable headers, the search form and the pager.
 */

export type SortKey = "start" | "severity" | "score";
export const PAGE = 50;

/** List state kept in the URL; `setParams` patches it (any change but the page's goes back to page 0). */
export function useListUrl(onChange: () => void) {
  const router = useRouter();
  const pathname = usePathname();
  const params = useSearchParams();
  const historicalParam = params.get("historical");
  const setParams = (patch: Record<string, string | null>) => {
    const next = new URLSearchParams(params.toString());
    for (const [k, v] of Object.entries(patch)) {
      if (v === null || v === "") next.delete(k);
      else next.set(k, v);
    }
    if (!("page" in patch)) next.delete("page");
    onChange();
    router.replace(`${pathname}${next.size ? `?${next.toString()}` : ""}`, { scroll: false });
  };
  return {
    params,
    setParams,
    /** Adds or removes one value of a comma-separated filter. */
    toggle: <T extends string>(key: string, list: T[], v: T) => setParams({ [key]: (list.includes(v) ? list.filter((x) => x !== v) : [...list, v]).join(",") }),
    clear: () => {
      onChange();
      router.replace(pathname);
    },
    search: params.get("q") ?? "",
    historicalParam,
    historical: historicalParam === "1" ? true : historicalParam === "0" ? false : undefined,
    sort: (["start", "severity", "score"].includes(params.get("sort") ?? "") ? params.get("sort") : "start") as SortKey,
    dir: (params.get("dir") === "asc" ? "asc" : "desc") as "asc" | "desc",
    page: Math.max(0, Number(params.get("page")) || 0),
  };
}

/** Selected rows of the page, and whether a bulk action goes to everything the filter matches instead. */
export function useSelection<Id>() {
  const [selected, setSelected] = useState<Set<Id>>(new Set());
  const [allMatching, setAllMatching] = useState(false);
  return {
    selected,
    allMatching,
    setAllMatching,
    reset: () => {
      setSelected(new Set());
      setAllMatching(false);
    },
    toggleOne: (id: Id) => {
      const next = new Set(selected);
      if (next.has(id)) next.delete(id);
      else next.add(id);
      setAllMatching(false);
      setSelected(next);
    },
    togglePage: (ids: Id[], allSelected: boolean) => {
      setAllMatching(false);
      setSelected(allSelected ? new Set() : new Set(ids));
    },
  };
}

export function Facet<T extends string>({
  name,
  values,
  selected,
  onToggle,
  text,
}: {
  name: string;
  values: readonly T[];
  selected: T[];
  onToggle: (v: T) => void;
  text?: (v: T) => string;
}) {
  return (
    <div className="row facet" role="group" aria-label={`Filter by ${name}`}>
      <span className="muted facet-name">{name}</span>
      {values.map((v) => (
        <button key={v} type="button" aria-pressed={selected.includes(v)} onClick={() => onToggle(v)}>
          {text ? text(v) : v}
        </button>
      ))}
    </div>
  );
}

/** Live detections vs history found by imports and backfills (`historical` in the URL: 0 / 1 / absent). */
export function FoundFacet({ url }: { url: ReturnType<typeof useListUrl> }) {
  const { historical, historicalParam, setParams } = url;
  return (
    <Facet
      name="Found"
      values={["live", "history"] as const}
      selected={historical === undefined ? [] : [historical ? "history" : "live"]}
      onToggle={(v) => {
        const want = v === "history" ? "1" : "0";
        setParams({ historical: historicalParam === want ? null : want });
      }}
      text={(v) => (v === "live" ? "detected live" : "in imported history")}
    />
  );
}

export function SortHeader({ k, text, url }: { k: SortKey; text: string; url: ReturnType<typeof useListUrl> }) {
  const { sort, dir, setParams } = url;
  const active = sort === k;
  return (
    <th aria-sort={active ? (dir === "asc" ? "ascending" : "descending") : "none"}>
      <button type="button" onClick={() => setParams({ sort: k, dir: active && dir === "desc" ? "asc" : "desc" })}>
        {text} {active ? (dir === "asc" ? "▲" : "▼") : ""}
      </button>
    </th>
  );
}

/** The search box: applied on Enter (into `q`), not on every keystroke. */
export function SearchForm({
  label,
  placeholder,
  value,
  onChange,
  onSearch,
  minWidth,
}: {
  label: string;
  placeholder: string;
  value: string;
  onChange: (v: string) => void;
  onSearch: (q: string) => void;
  minWidth: number;
}) {
  return (
    <form
      role="search"
      onSubmit={(e) => {
        e.preventDefault();
        onSearch(value.trim());
      }}
    >
      <input type="search" aria-label={label} placeholder={placeholder} value={value} onChange={(e) => onChange(e.target.value)} style={{ minWidth }} />
    </form>
  );
}

export function Pager({ total, url }: { total: number; url: ReturnType<typeof useListUrl> }) {
  const { page, setParams } = url;
  return (
    <nav className="row pager" aria-label="Pages">
      <button type="button" disabled={page === 0} onClick={() => setParams({ page: String(page - 1) })}>
        Previous
      </button>
      <span className="muted">{total ? `${page * PAGE + 1}–${Math.min(total, (page + 1) * PAGE)} of ${total}` : "0"}</span>
      <button type="button" disabled={(page + 1) * PAGE >= total} onClick={() => setParams({ page: String(page + 1) })}>
        Next
      </button>
    </nav>
  );
}
