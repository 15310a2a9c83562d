/** Set by the web server from the socket's address (replacing any client value); read for sign-in rate limits. */
export const CLIENT_IP_HEADER = "x-omen-client-ip";
