import { UsersAdmin } from "@/components/access/users-admin";

export const metadata = { title: "Users · Omen" };

export default function UsersPage() {
  return <UsersAdmin />;
}
