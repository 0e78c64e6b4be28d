import type { CertificateSource } from '@meshless/core';

export interface PlaceReply {
  orderId: string;
  placedBy: string;
}

export declare function ordersClient(options: {
  source: CertificateSource;
  target: string;
  serverId?: string;
}): {
  place(item: string, quantity?: number): Promise<PlaceReply>;
  close(): void;
};
