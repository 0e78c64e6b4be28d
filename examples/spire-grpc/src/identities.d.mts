export declare const TRUST_DOMAIN: string;
export declare const ORDERS_ID: string;
export declare const FRONTEND_ID: string;
