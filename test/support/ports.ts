export { freePort } from '@flotilla/testing/net/free-port';
