/** The app version, kept in step with package.json (checked by a test). */
export const APP_VERSION = '0.1.0';
