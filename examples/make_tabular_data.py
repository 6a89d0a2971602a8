#!/usr/bin/python3
"""Writes the small CSV files used by docs/tabular.md. Standard library only, seeded, so the
same command always writes the same bytes.

    /usr/bin/python3 examples/make_tabular_data.py [--out DIR] [--seed N]

Classification, four species told apart by features on wildly different scales:
    animals.csv        600 rows   id,mass_g,heart_rate_bpm,ear_ratio,home_range_m2,species
    animals_test.csv   200 rows   same columns, different animals
    animals_new.csv      3 rows   the same columns without `species` (to predict)

Regression, the price of a house:
    houses.csv         800 rows   id,area_m2,rooms,age_years,lot_m2,distance_km,price_k
    houses_test.csv    200 rows   same columns
    houses_new.csv       3 rows   without `price_k`

A raw table, as tables come: gaps (empty cells, NA, N/A, ?), a text column and a date column:
    weather.csv        800 rows   date,station,humidity,pressure_hpa,wind,rain_tomorrow
    weather_test.csv   200 rows   same columns, the following days
    weather_new.csv      3 rows   without `rain_tomorrow`, columns in another order

price_k is in thousands. backprop standardises the inputs and the regression target alike
(--normalize, fitted on the training split), so the target's scale does not matter.
"""
import argparse
import csv
import math
import os
import random

# species: (mass_g, heart_rate_bpm, ear_ratio, home_range_m2) means, and the relative spread
SPECIES = {
    "rabbit": (1800.0, 200.0, 0.55, 8.0e3),
    "cat": (4200.0, 160.0, 0.30, 3.0e5),
    "fox": (6500.0, 120.0, 0.38, 4.0e6),
    "badger": (11000.0, 110.0, 0.12, 1.5e6),
}
SPREAD = 0.25  # each feature varies by about +-25% (log-normal), so the classes overlap a little


def animal(rng, species):
    mass, heart, ear, home = SPECIES[species]
    jitter = lambda m: m * math.exp(rng.gauss(0.0, SPREAD))
    return [
        round(jitter(mass), 1),
        round(jitter(heart)),
        round(jitter(ear), 3),
        int(round(jitter(home), -2)),
    ]


def house(rng):
    area = rng.uniform(45.0, 260.0)
    rooms = max(1, min(8, round(area / 30.0 + rng.gauss(0.0, 0.7))))
    age = rng.uniform(0.0, 90.0)
    lot = area * rng.uniform(1.2, 30.0)
    distance = rng.uniform(0.5, 45.0)
    # A smooth, slightly non-linear price in thousands, plus noise.
    price = (
        120.0
        + 2.1 * area
        + 9.0 * rooms
        - 1.1 * age
        + 40.0 * math.log(lot / 100.0)
        + 260.0 * math.exp(-distance / 8.0)
        + rng.gauss(0.0, 15.0)
    )
    return [round(area, 1), rooms, round(age, 1), round(lot), round(distance, 2), round(price, 1)]


WINDS = ["N", "NE", "E", "SE", "S", "SW", "W", "NW"]
GAPS = ["", "NA", "N/A", "?"]


def gap(rng, value, rate):
    return rng.choice(GAPS) if rng.random() < rate else value


def weather(rng, day):
    """One day's reading at one station (day: days since 2015-01-01) and whether it rains."""
    year, day_of_year = 2015 + day // 365, day % 365
    month = min(12, 1 + day_of_year * 12 // 365)
    hour = rng.choice([6, 9, 12, 15, 18])
    station = rng.choice(["coast", "valley", "hill"])
    humidity = rng.uniform(25.0, 100.0)
    pressure = rng.gauss(1013.0, 8.0)
    wind = rng.choice(WINDS)
    winter = month in (11, 12, 1, 2)
    logit = (0.09 * (humidity - 70.0) - 0.18 * (pressure - 1013.0)
             + (1.3 if wind in ("SW", "W", "NW") else 0.0) + (0.9 if winter else -0.4)
             + (0.6 if station == "coast" else 0.0))
    rain = "yes" if rng.random() < 1.0 / (1.0 + math.exp(-logit)) else "no"
    date = f"{year}-{month:02d}-{1 + (day_of_year * 12 % 365) % 28:02d}T{hour:02d}:00"
    return [gap(rng, date, 0.02), station, gap(rng, round(humidity, 1), 0.08),
            gap(rng, round(pressure, 1), 0.08), gap(rng, wind, 0.05), gap(rng, rain, 0.02)]


def write(path, header, rows):
    with open(path, "w", newline="") as f:
        w = csv.writer(f, lineterminator="\n")
        w.writerow(header)
        w.writerows(rows)
    print(f"wrote {path} ({len(rows)} rows)")


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", default=".", help="directory to write into (default: .)")
    parser.add_argument("--seed", type=int, default=7, help="random seed (default: 7)")
    args = parser.parse_args()
    os.makedirs(args.out, exist_ok=True)
    rng = random.Random(args.seed)
    names = sorted(SPECIES)

    def animals(count, prefix):
        rows = []
        for i in range(count):
            species = rng.choice(names)
            rows.append([f"{prefix}{i + 1:04d}"] + animal(rng, species) + [species])
        return rows

    header = ["id", "mass_g", "heart_rate_bpm", "ear_ratio", "home_range_m2", "species"]
    write(os.path.join(args.out, "animals.csv"), header, animals(600, "a"))
    write(os.path.join(args.out, "animals_test.csv"), header, animals(200, "t"))
    new = [["x1"] + animal(rng, "rabbit"), ["x2"] + animal(rng, "fox"), ["x3"] + animal(rng, "badger")]
    write(os.path.join(args.out, "animals_new.csv"), header[:-1], new)

    header = ["id", "area_m2", "rooms", "age_years", "lot_m2", "distance_km", "price_k"]
    write(os.path.join(args.out, "houses.csv"), header,
          [[f"h{i + 1:04d}"] + house(rng) for i in range(800)])
    write(os.path.join(args.out, "houses_test.csv"), header,
          [[f"t{i + 1:04d}"] + house(rng) for i in range(200)])
    write(os.path.join(args.out, "houses_new.csv"), header[:-1],
          [[f"n{i + 1}"] + house(rng)[:-1] for i in range(3)])

    header = ["date", "station", "humidity", "pressure_hpa", "wind", "rain_tomorrow"]
    write(os.path.join(args.out, "weather.csv"), header,
          [weather(rng, rng.randrange(0, 4 * 365)) for _ in range(800)])
    write(os.path.join(args.out, "weather_test.csv"), header,
          [weather(rng, rng.randrange(0, 4 * 365)) for _ in range(200)])
    order = [4, 2, 0, 3, 1]  # wind, humidity, date, pressure, station: any order reads the same
    new = [weather(rng, rng.randrange(0, 4 * 365))[:-1] for _ in range(3)]
    new[0][4] = "NA"
    write(os.path.join(args.out, "weather_new.csv"), [header[k] for k in order],
          [[row[k] for k in order] for row in new])


if __name__ == "__main__":
    main()
