import Link from "next/link";

export type Crumb = { label: string; href?: string };

/**
 * Where this page sits: links up the trail, then the page itself by its human name (never an id:
 * see lib/triage/names.ts). A long last crumb (a stream key) is cut with an ellipsis and kept whole
 * in its tooltip, so the trail stays one line.
 */
export function Breadcrumbs({ trail }: { trail: readonly Crumb[] }) {
  return (
    <nav aria-label="Breadcrumb" className="crumbs">
      <ol>
        {trail.map((c, i) => {
          const last = i === trail.length - 1;
          return (
            <li key={`${i}-${c.label}`} aria-current={last ? "page" : undefined} title={last ? c.label : undefined}>
              {c.href && !last ? <Link href={c.href}>{c.label}</Link> : c.label}
            </li>
          );
        })}
      </ol>
    </nav>
  );
}
