import type { Metadata } from "next";
import type { ReactNode } from "react";
import { TrpcReactProvider } from "@/components/trpc/client";
import { TopBar } from "@/components/ui/top-bar";
import "./globals.css";

export const metadata: Metadata = {
  title: "Omen",
  description: "Anomaly detection and prediction for SREs",
  icons: { icon: { url: "/favicon.svg", type: "image/svg+xml" } },
};

export default function RootLayout({ children }: { children: ReactNode }) {
  return (
    <html lang="en">
      <body>
        <TrpcReactProvider>
          <TopBar />
          <main>{children}</main>
        </TrpcReactProvider>
      </body>
    </html>
  );
}
