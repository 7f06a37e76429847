// The time range form above the analytics and cost pages: a GET back to the page with ?days= (one of RANGES).
import { RANGES, type Range } from './range';

export function RangeFilter({ days, action }: { days: Range; action: '/admin' | '/admin/cost' }) {
  return (
    <form method="get" action={action} class="filters">
      <div>
        <label for="days">Time range</label>
        <select id="days" name="days">
          {Object.entries(RANGES).map(([v, label]) => <option value={v} selected={v === days}>{label}</option>)}
        </select>
      </div>
      <button type="submit">Apply</button>
    </form>
  );
}
