import { TokensAdmin } from "@/components/access/tokens-admin";

export const metadata = { title: "API tokens · Omen" };

export default function TokensPage() {
  return <TokensAdmin />;
}
