"""What the views share: loading a record of the user's school (or a 404), the school's sites,
and sending a stored file. The pages and the API both build on it; no package imports another
package's views."""
