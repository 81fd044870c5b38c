/** Style sheets bundled as text (esbuild's text loader), adopted into a component's shadow root. */
declare module '*.css' {
  const text: string;
  export default text;
}
