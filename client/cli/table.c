/* SPDX-License-Identifier: MIT */
/* Plain-text tables for people: columns padded to their widest cell. */
#include <stdio.h>
#include <string.h>

#include "cli.h"

#define TABLE_GAP 2

json_t *table_new(const char *const *header, size_t columns)
{
	json_t *table, *row;
	size_t i;

	table = json_array();
	row = json_array();
	for (i = 0; i < columns; i++)
		json_array_append_new(row, json_string(header[i]));
	if (json_array_append_new(table, row) < 0 || json_array_size(row) != columns) {
		json_decref(table);
		return NULL;
	}
	return table;
}

int table_add(json_t *table, const char *const *cells)
{
	size_t i, columns = json_array_size(json_array_get(table, 0));
	json_t *row = json_array();

	for (i = 0; i < columns; i++)
		json_array_append_new(row, json_string(cells[i] ? cells[i] : "-"));
	if (json_array_append_new(table, row) < 0 || json_array_size(row) != columns)
		return -1;
	return 0;
}

void table_print(const json_t *table)
{
	size_t width[TABLE_MAX_COLUMNS] = { 0 };
	size_t columns, i, j, len;
	const json_t *row;

	columns = json_array_size(json_array_get(table, 0));
	if (columns > TABLE_MAX_COLUMNS)
		columns = TABLE_MAX_COLUMNS;
	json_array_foreach(table, i, row) for (j = 0; j < columns; j++)
	{
		len = json_string_length(json_array_get(row, j));
		if (len > width[j])
			width[j] = len;
	}
	json_array_foreach(table, i, row)
	{
		/* The last column is free text (a state's detail): never padded. */
		for (j = 0; j + 1 < columns; j++)
			printf("%-*s", (int)(width[j] + TABLE_GAP),
			       json_string_value(json_array_get(row, j)));
		printf("%s\n", json_string_value(json_array_get(row, j)));
	}
}
