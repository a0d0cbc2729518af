import './globals.css';

export const metadata = { title: 'Tasks' };

export default function RootLayout({ children }) {
  return (
    <html lang="en">
      <body>{children}</body>
    </html>
  );
}
